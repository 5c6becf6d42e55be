// pyconc::threading::Condition — Python's threading.Condition.
//
// Works over a Lock or an RLock (by default its own RLock), shares that lock, and is
// itself Lockable. wait() releases the lock completely (restoring an RLock's full
// recursion depth afterwards), sleeps in the parking lot and re-acquires. Waiters wake in
// FIFO order and never spuriously. wait/notify without holding the lock throw RuntimeError.
//
//   pyconc::threading::Condition cv;
//   std::unique_lock hold(cv);
//   cv.wait_for([&] { return !items.empty(); });    // with cv: cv.wait_for(lambda: items)
//   // elsewhere: { std::scoped_lock g(cv); items.push_back(x); cv.notify(); }
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "pyconc/detail/assert.hpp"
#include "pyconc/threading/lock.hpp"
#include "pyconc/threading/rlock.hpp"

namespace pyconc::threading {

class Condition {
 public:
  Condition();  // over a new RLock, like Python's default
  explicit Condition(Lock& lock) : lock_(&lock) {}
  explicit Condition(RLock& lock) : rlock_(&lock) {}
  // Destroying a Condition that threads wait on is a bug; debug and sanitizer builds abort.
  ~Condition() {
    PYCONC_ASSERT(waiters_.load(std::memory_order_relaxed) == 0,
                  "a Condition is destroyed while threads wait on it");
  }
  Condition(const Condition&) = delete;
  Condition& operator=(const Condition&) = delete;

  bool acquire(bool blocking = true, Timeout timeout = forever) {
    return lock_ ? lock_->acquire(blocking, timeout) : rlock_->acquire(blocking, timeout);
  }
  void release() { lock_ ? lock_->release() : rlock_->release(); }
  void lock() { acquire(); }
  bool try_lock() { return acquire(false); }
  void unlock() { release(); }

  // True if notified, false on timeout. A zero or negative timeout returns false at once
  // (after releasing and re-acquiring the lock, as Python does).
  bool wait(Timeout timeout = forever);
  // The same, until an absolute deadline (the C++ spelling, as condition_variable's).
  bool wait_until(const Deadline& deadline);

  // Waits until predicate() is truthy or the total timeout passes; returns its last value.
  template <class Predicate>
  auto wait_for(Predicate predicate, Timeout timeout = forever) -> decltype(predicate()) {
    const Deadline deadline = timeout.deadline();
    auto result = predicate();
    while (!result && !deadline.expired()) {
      wait_until(deadline);
      result = predicate();
    }
    return result;
  }

  void notify(std::size_t n = 1);
  void notify_all();

 private:
  bool is_owned() const;
  std::uint64_t release_save();
  void acquire_restore(std::uint64_t saved);

  std::unique_ptr<RLock> own_rlock_;
  Lock* lock_ = nullptr;
  RLock* rlock_ = nullptr;
  // Waiters are counted before they release the lock. Atomic although the lock guards it:
  // a waiter whose release failed uncounts itself without the lock, and the destructor's
  // debug check reads it from a thread that may not hold the lock (the misuse it reports).
  std::atomic<std::size_t> waiters_{0};
};

}  // namespace pyconc::threading
