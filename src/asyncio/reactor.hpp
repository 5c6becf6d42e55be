// Internal: the reactor half of an event loop — libuv, which waits for the next event (a
// cross-thread wake-up, a timeout, a descriptor ready, a signal) and reports it to the
// scheduler's callbacks, which only queue work. The scheduler (loop_core.hpp) decides how long
// to wait and what runs.
#pragma once

#include <uv.h>

#include <functional>
#include <map>
#include <memory>
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

  // Reports `fd` readable and/or writable (UV_READABLE, UV_WRITABLE) at every poll while it
  // is (level-triggered, as Python's selector loops); events 0 stops watching. OSError for a
  // descriptor that cannot be watched.
  void watch(int fd, int events, std::function<void(int ready)> on_ready);
  // Reports each arrival of `signum`; unwatch_signal restores its default action.
  void watch_signal(int signum, std::function<void()> on_signal);
  bool unwatch_signal(int signum);
  void close_watches();

 private:
  struct FdWatch;
  struct SignalWatch;
  uv_loop_t loop_{};
  uv_async_t wake_{};
  uv_timer_t timeout_{};
  std::map<int, FdWatch*> fds_;
  std::map<int, SignalWatch*> signals_;
};

}  // namespace pyconc::asyncio::detail
