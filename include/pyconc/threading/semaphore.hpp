// pyconc::threading::Semaphore and BoundedSemaphore — Python's threading semaphores.
//
// A counter that acquire() decrements, waiting in the parking lot while it is 0, and
// release(n) increments, waking up to n waiters. A negative initial value or release(n)
// with n < 1 throws ValueError; a BoundedSemaphore also throws ValueError when a release
// would take it past its initial value (checked for all n at once, value unchanged).
// Unlike Python's, the counter has a bound, VALUE_MAX (about 8.8e12): a value or release
// beyond it throws OverflowError and changes nothing. release() never touches the object
// after the increment a waiter can observe, so a waiter may destroy it at once.
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
  std::int64_t value() const { return value_of(word_.load(std::memory_order_relaxed)); }

  static constexpr std::int64_t VALUE_MAX = (std::int64_t{1} << 43) - 1;

 protected:
  // Adds n, keeping the value at most `limit` (beyond it: ValueError when bounded, else
  // OverflowError, and nothing changes), then wakes up to n waiters.
  void add(std::int64_t n, std::int64_t limit, bool bounded);

 private:
  // The counter and the number of parked waiters share one word (value << kWaiterBits |
  // waiters), so release() learns whether to wake anyone in the step that adds to it.
  static constexpr int kWaiterBits = 20;
  static constexpr std::uint64_t kOneValue = std::uint64_t{1} << kWaiterBits;
  static constexpr std::uint64_t kWaiterMask = kOneValue - 1;
  static std::int64_t value_of(std::uint64_t word) {
    return static_cast<std::int64_t>(word >> kWaiterBits);
  }

  bool try_decrement();
  std::atomic<std::uint64_t> word_;
};

class BoundedSemaphore : public Semaphore {
 public:
  explicit BoundedSemaphore(std::int64_t value = 1) : Semaphore(value), initial_(value) {}
  void release(std::int64_t n = 1) override;

 private:
  const std::int64_t initial_;
};

}  // namespace pyconc::threading
