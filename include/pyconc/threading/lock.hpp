// pyconc::threading::Lock — Python's threading.Lock.
//
// One byte, acquired with a single compare-and-swap when free. Like Python's (and unlike
// std::mutex) it is not owned: any thread may release it, and releasing an unlocked Lock
// throws RuntimeError. Contended acquirers spin briefly, then park in the parking lot;
// a lock waited on for about a millisecond is handed straight to its oldest waiter.
// Satisfies Lockable, so std::scoped_lock / std::unique_lock work (Python's `with lock:`).
//
//   pyconc::threading::Lock lock;
//   { std::scoped_lock guard(lock); ++counter; }      // with lock: counter += 1
//   if (lock.acquire(true, 5s)) { ...; lock.release(); }
#pragma once

#include <atomic>
#include <cstdint>

#include "pyconc/detail/assert.hpp"
#include "pyconc/timeout.hpp"

namespace pyconc::threading {

class Lock {
 public:
  Lock() = default;
  // Destroying a held Lock is harmless, as in Python (LOCK-13): nobody else can reach it.
  // Destroying it while another thread is parked waiting for it is a bug (the waiter would
  // wake into freed memory); debug and sanitizer builds abort with a message.
  ~Lock() {
    PYCONC_ASSERT((bits_.load(std::memory_order_relaxed) & kHasParked) == 0,
                  "a Lock is destroyed while threads wait for it");
  }
  Lock(const Lock&) = delete;
  Lock& operator=(const Lock&) = delete;

  // Python's acquire(blocking=True, timeout=-1). A timeout with blocking=false, or a
  // negative timeout other than -1 s (Python's "forever"), throws ValueError.
  bool acquire(bool blocking = true, Timeout timeout = forever) {
    if (blocking && timeout.is_forever() && try_lock()) return true;
    return acquire_slow(blocking, timeout);
  }
  void release() {
    std::uint8_t expected = kLocked;
    if (bits_.compare_exchange_strong(expected, 0, std::memory_order_release,
                                      std::memory_order_relaxed))
      return;
    release_slow();
  }
  bool locked() const { return (bits_.load(std::memory_order_relaxed) & kLocked) != 0; }

  // Lockable.
  void lock() { acquire(); }
  bool try_lock() {
    std::uint8_t expected = 0;
    return bits_.compare_exchange_strong(expected, kLocked, std::memory_order_acquire,
                                         std::memory_order_relaxed);
  }
  void unlock() { release(); }

 private:
  static constexpr std::uint8_t kLocked = 1;
  static constexpr std::uint8_t kHasParked = 2;

  bool acquire_slow(bool blocking, Timeout timeout);
  bool lock_contended(const Deadline& deadline);
  void release_slow();

  std::atomic<std::uint8_t> bits_{0};
};

static_assert(sizeof(Lock) == 1, "Lock is one byte");

namespace detail {
// The rules Lock.acquire and RLock.acquire share: ValueError/OverflowError for bad
// arguments, -1 s means forever. Returns the deadline to wait until.
Deadline lock_acquire_deadline(bool blocking, const Timeout& timeout);
}  // namespace detail

}  // namespace pyconc::threading
