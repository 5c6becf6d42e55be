// pyconc::threading::Semaphore and BoundedSemaphore — Python's threading semaphores.
//
// A counter that acquire() decrements, waiting in the parking lot while it is 0, and
// release(n) increments, waking up to n waiters. A negative initial value or release(n)
// with n < 1 throws ValueError; a BoundedSemaphore also throws ValueError when a release
// would take it past its initial value (checked for all n at once, value unchanged).
// Lockable, so std::scoped_lock works (Python's `with sem:`).
//
//   pyconc::threading::BoundedSemaphore slots(3);
//   { std::scoped_lock g(slots); download(); }      // at most 3 at once
//   if (!slots.acquire(true, 100ms)) give_up();
#pragma once

#include <atomic>
#include <cstdint>

#include "pyconc/timeout.hpp"

namespace pyconc::threading {

class Semaphore {
 public:
  explicit Semaphore(std::int64_t value = 1);
  Semaphore(const Semaphore&) = delete;
  Semaphore& operator=(const Semaphore&) = delete;
  virtual ~Semaphore() = default;

  // Python's acquire(blocking=True, timeout=None). A zero or negative timeout is a
  // non-blocking try; a timeout together with blocking=false throws ValueError.
  bool acquire(bool blocking = true, Timeout timeout = forever);
  virtual void release(std::int64_t n = 1);

  void lock() { acquire(); }
  bool try_lock() { return acquire(false); }
  void unlock() { release(); }

  // The current counter (Python's private _value), for tests and monitoring.
  std::int64_t value() const { return value_.load(std::memory_order_relaxed); }

 protected:
  void wake_waiters(std::int64_t n);
  std::atomic<std::int64_t> value_;

 private:
  bool try_decrement();
  std::atomic<std::uint32_t> waiters_{0};
};

class BoundedSemaphore : public Semaphore {
 public:
  explicit BoundedSemaphore(std::int64_t value = 1) : Semaphore(value), initial_(value) {}
  void release(std::int64_t n = 1) override;

 private:
  const std::int64_t initial_;
};

}  // namespace pyconc::threading
