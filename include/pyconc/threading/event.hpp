// pyconc::threading::Event — Python's threading.Event.
//
// A flag that set() raises and clear() lowers; wait() blocks until it is set. set() wakes
// every waiter, and each of them returns true even if clear() follows at once.
//
//   pyconc::threading::Event stop;
//   while (!stop.is_set()) { work(); stop.wait(1s); }   // responsive "sleep"
//   // elsewhere: stop.set();
#pragma once

#include <atomic>
#include <cstdint>

#include "pyconc/timeout.hpp"

namespace pyconc::threading {

class Event {
 public:
  Event() = default;
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  bool is_set() const { return (word_.load(std::memory_order_acquire) & kSet) != 0; }
  void set();
  void clear() { word_.fetch_and(~kSet, std::memory_order_relaxed); }
  // True once the flag is set (or when a set() woke us); false on timeout. A zero or
  // negative timeout just reports the flag.
  bool wait(Timeout timeout = forever);
  // The same, until an absolute deadline (the C++ spelling, as condition_variable's).
  bool wait_until(const Deadline& deadline);

 private:
  // The flag and the number of waiters share one word, so set() learns whether anyone waits
  // in the same atomic step that raises the flag, and never reads the Event afterwards: a
  // waiter may return and destroy it at once (the sem_post / std::latch pattern).
  static constexpr std::uint32_t kSet = 1;
  static constexpr std::uint32_t kOneWaiter = 2;
  std::atomic<std::uint32_t> word_{0};
};

}  // namespace pyconc::threading
