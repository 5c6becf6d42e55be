// Internal: the reactor half of an event loop — libuv, which waits for the next event (a
// cross-thread wake-up, a timeout; I/O and signals later) and nothing else. The scheduler
// (loop_core.hpp) decides how long to wait and what runs.
#pragma once

#include <uv.h>

#include <optional>

namespace pyconc::asyncio::detail {

class Reactor {
 public:
  Reactor();
  ~Reactor();
  Reactor(const Reactor&) = delete;
  Reactor& operator=(const Reactor&) = delete;

  // Waits until something happens or `timeout` seconds pass (none: no limit; 0: only looks).
  void poll(std::optional<double> timeout);
  // Makes a poll in progress (or the next one) return. Any thread may call it.
  void wake();

 private:
  uv_loop_t loop_{};
  uv_async_t wake_{};
  uv_timer_t timeout_{};
};

}  // namespace pyconc::asyncio::detail
