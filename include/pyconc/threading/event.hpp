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

  bool is_set() const { return flag_.load(std::memory_order_acquire) != 0; }
  void set();
  void clear() { flag_.store(0, std::memory_order_relaxed); }
  // True once the flag is set (or when a set() woke us); false on timeout. A zero or
  // negative timeout just reports the flag.
  bool wait(Timeout timeout = forever);

 private:
  std::atomic<std::uint32_t> flag_{0};
  std::atomic<std::uint32_t> waiters_{0};
};

}  // namespace pyconc::threading
