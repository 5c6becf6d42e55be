// The reactor on libuv: one uv_async_t for wake-ups from other threads, one uv_timer_t to
// bound a poll. Events only end the poll; the scheduler does the work afterwards.
#include "reactor.hpp"

#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstring>
#include <string>

#include <sys/wait.h>

#include "pyconc/errors.hpp"

namespace pyconc::asyncio::detail {

namespace {

void check(int rc, const char* what) {
  if (rc < 0) throw OSError(std::string(what) + ": " + uv_strerror(rc));
}

void on_event(uv_async_t*) {}
// uv_run(UV_RUN_ONCE) runs due timers *before* it polls, and then computes the poll's
// timeout from the timers still active: if ours fired there (we were descheduled between
// arming it and uv_run), the poll would block with no timeout at all. uv_stop makes that
// poll return at once.
void on_timeout(uv_timer_t* timer) { uv_stop(timer->loop); }

template <class T>
void close_and_delete(T* handle) {
  uv_close(reinterpret_cast<uv_handle_t*>(&handle->handle), [](uv_handle_t* h) { delete static_cast<T*>(h->data); });
}

}  // namespace

// The libuv handles live on the heap until libuv has closed them.
struct Reactor::FdWatch {
  uv_poll_t handle{};
  std::function<void(int)> on_ready;
};
struct Reactor::SignalWatch {
  uv_signal_t handle{};
  std::function<void()> on_signal;
};

void Reactor::watch(int fd, int events, std::function<void(int ready)> on_ready) {
  auto found = fds_.find(fd);
  if (events == 0) {
    if (found == fds_.end()) return;
    uv_poll_stop(&found->second->handle);
    close_and_delete(found->second);
    fds_.erase(found);
    return;
  }
  FdWatch* w = found == fds_.end() ? nullptr : found->second;
  if (!w) {
    w = new FdWatch;
    w->handle.data = w;
    const int rc = uv_poll_init(&loop_, &w->handle, fd);
    if (rc < 0) {
      delete w;
      throw OSError("cannot watch file descriptor " + std::to_string(fd) + ": " + uv_strerror(rc));
    }
    fds_[fd] = w;
  }
  w->on_ready = std::move(on_ready);
  uv_poll_start(&w->handle, events, [](uv_poll_t* h, int status, int ready) {
    auto* watch = static_cast<FdWatch*>(h->data);
    // An error (the descriptor was closed under us) counts as ready: the callback finds out.
    watch->on_ready(status < 0 ? (UV_READABLE | UV_WRITABLE) : ready);
  });
}

struct Reactor::ChildWatch {
  uv_process_t handle{};
  std::function<void(int)> on_exit;
  Reactor* reactor = nullptr;
};

int Reactor::spawn(const SpawnRequest& request, std::function<void(int returncode)> on_exit) {
  if (request.argv.empty()) throw ValueError("spawn: no program");
  std::vector<char*> argv, environment;
  for (const auto& arg : request.argv) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  if (request.environment) {
    for (const auto& entry : *request.environment) environment.push_back(const_cast<char*>(entry.c_str()));
    environment.push_back(nullptr);
  }
  uv_stdio_container_t stdio[3];
  for (int i = 0; i < 3; ++i) {
    stdio[i].flags = UV_INHERIT_FD;
    stdio[i].data.fd = request.stdio[i] >= 0 ? request.stdio[i] : i;
  }
  uv_process_options_t options{};
  options.file = argv[0];
  options.args = argv.data();
  options.env = request.environment ? environment.data() : nullptr;
  options.cwd = request.cwd ? request.cwd->c_str() : nullptr;
  options.stdio_count = 3;
  options.stdio = stdio;
  options.exit_cb = [](uv_process_t* h, int64_t exit_status, int term_signal) {
    auto* watch = static_cast<ChildWatch*>(h->data);
    const int pid = h->pid;
    auto on_exit = std::move(watch->on_exit);
    watch->reactor->children_.erase(pid);
    close_and_delete(watch);
    on_exit(term_signal != 0 ? -term_signal : static_cast<int>(exit_status));
  };
  auto* watch = new ChildWatch;
  watch->handle.data = watch;
  watch->on_exit = std::move(on_exit);
  watch->reactor = this;
  const int rc = uv_spawn(&loop_, &watch->handle, &options);
  if (rc < 0) {
    close_and_delete(watch);  // libuv wants even a failed process handle closed
    uv_run(&loop_, UV_RUN_NOWAIT);
    raise_os_error(-rc, "cannot start " + request.argv[0]);
  }
  children_[watch->handle.pid] = watch;
  return watch->handle.pid;
}

bool Reactor::kill_child(int pid, int signum) {
  const auto found = children_.find(pid);
  if (found == children_.end()) return false;
  const int rc = uv_process_kill(&found->second->handle, signum);
  if (rc < 0 && rc != UV_ESRCH) raise_os_error(-rc, "kill");
  return true;
}

// A loop that goes while children still run kills and reaps them: no zombie, no orphan
// (Python's subprocess transports kill a child still running when they are closed).
void Reactor::kill_children() {
  for (auto& [pid, watch] : children_) {
    ::kill(pid, SIGKILL);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    watch->on_exit = nullptr;
    close_and_delete(watch);
  }
  children_.clear();
}

void Reactor::watch_signal(int signum, std::function<void()> on_signal) {
  SignalWatch* w = signals_.count(signum) ? signals_[signum] : nullptr;
  if (!w) {
    w = new SignalWatch;
    w->handle.data = w;
    check(uv_signal_init(&loop_, &w->handle), "uv_signal_init");
    signals_[signum] = w;
  }
  w->on_signal = std::move(on_signal);
  const int rc = uv_signal_start(&w->handle, [](uv_signal_t* h, int) { static_cast<SignalWatch*>(h->data)->on_signal(); },
                                 signum);
  if (rc < 0) {
    signals_.erase(signum);
    close_and_delete(w);
    throw ValueError("cannot handle signal " + std::to_string(signum) + ": " + uv_strerror(rc));
  }
}

bool Reactor::unwatch_signal(int signum) {
  const auto found = signals_.find(signum);
  if (found == signals_.end()) return false;
  uv_signal_stop(&found->second->handle);
  close_and_delete(found->second);
  signals_.erase(found);
  ::signal(signum, SIG_DFL);
  return true;
}

void Reactor::close_watches() {
  for (auto& [fd, w] : fds_) {
    uv_poll_stop(&w->handle);
    close_and_delete(w);
  }
  fds_.clear();
  for (auto it = signals_.begin(); it != signals_.end();) unwatch_signal((it++)->first);
}

Reactor::Reactor() {
  check(uv_loop_init(&loop_), "uv_loop_init");
  check(uv_async_init(&loop_, &wake_, &on_event), "uv_async_init");
  check(uv_timer_init(&loop_, &timeout_), "uv_timer_init");
}

Reactor::~Reactor() {
  close_watches();
  kill_children();
  uv_close(reinterpret_cast<uv_handle_t*>(&wake_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&timeout_), nullptr);
  uv_run(&loop_, UV_RUN_NOWAIT);  // lets libuv finish closing them
  uv_loop_close(&loop_);
}

void Reactor::poll(std::optional<double> timeout) {
  if (timeout && *timeout <= 0) {
    uv_run(&loop_, UV_RUN_NOWAIT);
    return;
  }
  if (timeout) {
    // libuv counts whole milliseconds from its cached "now": refresh it first. Rounding up
    // never wakes before the timer is due.
    uv_update_time(&loop_);
    const double ms = std::ceil(*timeout * 1000.0);
    uv_timer_start(&timeout_, &on_timeout, ms > 9.0e15 ? 9000000000000000ull : static_cast<std::uint64_t>(ms), 0);
  }
  uv_run(&loop_, UV_RUN_ONCE);  // the wake-up handle keeps the loop alive: this blocks
  uv_timer_stop(&timeout_);
}

void Reactor::wake() { uv_async_send(&wake_); }

}  // namespace pyconc::asyncio::detail
