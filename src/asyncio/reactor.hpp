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
#include <string>
#include <vector>

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

  // Starts a child process (libuv's uv_spawn): `argv[0]` is looked up on PATH; stdio[i] is
  // the descriptor the child gets as i (-1: this process's own). Returns the pid; OSError
  // (FileNotFoundError, PermissionError, ...) when it cannot start. on_exit receives Python's
  // returncode (the exit status, or -N for signal N) once libuv has reaped the child.
  struct SpawnRequest {
    std::vector<std::string> argv;
    int stdio[3] = {-1, -1, -1};
    std::optional<std::string> cwd;
    std::optional<std::vector<std::string>> environment;  // "NAME=value"; none: inherited
  };
  int spawn(const SpawnRequest& request, std::function<void(int returncode)> on_exit);
  // Sends `signum` to a child started by spawn() and not yet reaped; false when reaped.
  bool kill_child(int pid, int signum);
  // Kills and reaps every child still running (a loop closed under them).
  void kill_children();

 private:
  struct FdWatch;
  struct SignalWatch;
  struct ChildWatch;
  uv_loop_t loop_{};
  uv_async_t wake_{};
  uv_timer_t timeout_{};
  std::map<int, FdWatch*> fds_;
  std::map<int, SignalWatch*> signals_;
  std::map<int, ChildWatch*> children_;
};

}  // namespace pyconc::asyncio::detail
