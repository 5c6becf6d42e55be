// Internal: the scheduler half of an event loop — the ready queue, the timer heap and one
// iteration of Python's BaseEventLoop._run_once — over the reactor (reactor.hpp).
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <queue>
#include <vector>

#include "pyconc/asyncio/task.hpp"
#include "pyconc/futures/thread_pool.hpp"
#include "reactor.hpp"

namespace pyconc::asyncio::detail {

class LoopCore {
 public:
  explicit LoopCore(EventLoop& owner) : owner_(&owner) {}

  std::shared_ptr<HandleState> call_soon(pyconc::detail::UniqueFunction<void()> callback);
  std::shared_ptr<HandleState> call_at(double when, pyconc::detail::UniqueFunction<void()> callback);
  std::shared_ptr<HandleState> call_soon_threadsafe(pyconc::detail::UniqueFunction<void()> callback);
  double time() const;

  void run_forever();
  void run_once();
  void stop() { stopping_ = true; }
  void close();
  bool running() const { return running_; }
  bool closed() const { return closed_; }
  void check_open() const;

  // Readers, writers and signal handlers: the reactor queues their handles when ready.
  std::shared_ptr<HandleState> watch_fd(int fd, bool reading, pyconc::detail::UniqueFunction<void()> callback);
  bool unwatch_fd(int fd, bool reading);
  std::shared_ptr<HandleState> watch_signal(int signum, pyconc::detail::UniqueFunction<void()> callback);
  bool unwatch_signal(int signum);
  // Child processes (subprocess.hpp): on_exit runs as a loop callback with the returncode.
  int spawn(const Reactor::SpawnRequest& request, pyconc::detail::UniqueFunction<void(int)> on_exit);
  bool kill_child(int pid, int signum) { return reactor_.kill_child(pid, signum); }

  void add_task(std::weak_ptr<FutureCore> future, TaskCore* task);
  std::vector<TaskBase> pending_tasks();

  EventLoop& owner() const { return *owner_; }
  bool has_owner() const { return owner_ != nullptr; }
  void detach_owner() { owner_ = nullptr; }
  ExceptionHandler exception_handler;
  // run_in_executor's default (threads.hpp): made on first use; shut down at close().
  std::shared_ptr<futures::ThreadPoolExecutor> default_executor;
  bool default_executor_shut_down = false;
  bool debug = false;
  double slow_callback_duration = 0.1;

 private:
  struct Later {
    bool operator()(const std::shared_ptr<HandleState>& a, const std::shared_ptr<HandleState>& b) const {
      return a->when > b->when;
    }
  };
  void take_threadsafe_callbacks();
  void take_due_timers();
  std::optional<double> poll_timeout();
  void run_handle(HandleState& handle);
  bool io_poll_due(const std::optional<double>& timeout);
  void rewatch(int fd);
  struct FdHandles {
    std::shared_ptr<HandleState> reader, writer;
  };
  std::map<int, FdHandles> fds_;
  std::map<int, std::shared_ptr<HandleState>> signals_;

  EventLoop* owner_;
  Reactor reactor_;
  std::deque<std::shared_ptr<HandleState>> ready_;
  std::priority_queue<std::shared_ptr<HandleState>, std::vector<std::shared_ptr<HandleState>>, Later> timers_;
  std::mutex inbox_lock_;
  std::vector<std::shared_ptr<HandleState>> inbox_;  // from call_soon_threadsafe
  // inbox_ is not empty; written under inbox_lock_, read without it so that an iteration
  // takes no lock when no other thread scheduled anything. A callback added after the read
  // is not lost: call_soon_threadsafe wakes the reactor after setting it.
  std::atomic<bool> inbox_filled_{false};
  struct TaskEntry {
    std::weak_ptr<FutureCore> future;
    TaskCore* task;
  };
  std::vector<TaskEntry> tasks_;
  std::size_t next_task_sweep_ = 64;
  // While callbacks are ready, the reactor is polled (a system call) every
  // kCallbacksBetweenPolls callbacks or once a coarse clock tick has passed, not on every
  // iteration; an idle loop polls, and blocks, on every one.
  static constexpr std::size_t kCallbacksBetweenPolls = 61;  // Tokio's event_interval
  std::size_t callbacks_since_poll_ = 0;
  std::int64_t last_poll_tick_ = 0;
  bool running_ = false;
  bool stopping_ = false;
  bool closed_ = false;
};

// The loop running in this thread, if any.
EventLoop* running_loop();
void set_running_loop(EventLoop* loop);

}  // namespace pyconc::asyncio::detail
