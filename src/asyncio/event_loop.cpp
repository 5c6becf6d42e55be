// The scheduler (Python's BaseEventLoop: call_soon, call_at, _run_once, run_forever, stop,
// close) and EventLoop's public face.
#include <chrono>
#include <csignal>
#include <cstdio>
#include <ctime>

#include "loop_core.hpp"
#include "pyconc/detail/type_name.hpp"
#include "pyconc/report.hpp"

namespace pyconc::asyncio {

namespace detail {

namespace {
thread_local EventLoop* running = nullptr;
// Python counts a timer due when it is within the clock's resolution of now.
constexpr double kClockResolution = 1e-9;

// CLOCK_MONOTONIC_COARSE: the kernel's last tick, read from the vDSO without the TSC.
std::int64_t coarse_tick() {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
  return std::int64_t(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
}
}  // namespace

EventLoop* running_loop() { return running; }
void set_running_loop(EventLoop* loop) { running = loop; }

std::shared_ptr<HandleState> LoopCore::call_soon(pyconc::detail::UniqueFunction<void()> callback) {
  check_open();
  auto handle = std::make_shared<HandleState>();
  handle->callback = std::move(callback);
  ready_.push_back(handle);
  return handle;
}

std::shared_ptr<HandleState> LoopCore::call_at(double when, pyconc::detail::UniqueFunction<void()> callback) {
  check_open();
  auto handle = std::make_shared<HandleState>();
  handle->callback = std::move(callback);
  handle->when = when;
  timers_.push(handle);
  return handle;
}

std::shared_ptr<HandleState> LoopCore::call_soon_threadsafe(pyconc::detail::UniqueFunction<void()> callback) {
  auto handle = std::make_shared<HandleState>();
  handle->callback = std::move(callback);
  {
    std::scoped_lock hold(inbox_lock_);
    if (closed_) throw RuntimeError("Event loop is closed");
    inbox_.push_back(handle);
    inbox_filled_.store(true, std::memory_order_release);
  }
  reactor_.wake();
  return handle;
}

double LoopCore::time() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void LoopCore::check_open() const {
  if (closed_) throw RuntimeError("Event loop is closed");
}

void LoopCore::take_threadsafe_callbacks() {
  if (!inbox_filled_.load(std::memory_order_acquire)) return;
  std::scoped_lock hold(inbox_lock_);
  for (auto& handle : inbox_) ready_.push_back(std::move(handle));
  inbox_.clear();
  inbox_filled_.store(false, std::memory_order_relaxed);
}

std::optional<double> LoopCore::poll_timeout() {
  while (!timers_.empty() && timers_.top()->cancelled) timers_.pop();
  if (!ready_.empty() || stopping_) return 0.0;
  if (inbox_filled_.load(std::memory_order_acquire)) return 0.0;
  if (timers_.empty()) return std::nullopt;
  return std::max(0.0, timers_.top()->when - time());
}

void LoopCore::take_due_timers() {
  if (timers_.empty()) return;  // no clock read when nothing can be due
  const double end = time() + kClockResolution;
  while (!timers_.empty() && timers_.top()->when < end) {
    auto handle = timers_.top();
    timers_.pop();
    if (!handle->cancelled) ready_.push_back(std::move(handle));
  }
}

void LoopCore::run_handle(HandleState& handle) {
  pyconc::detail::UniqueFunction<void()> once;
  if (!handle.repeating) once = std::move(handle.callback);  // runs once; its captures go with it
  auto& callback = handle.repeating ? handle.callback : once;
  // The clock only in debug mode: a read per callback was a tenth of a task switch.
  std::chrono::steady_clock::time_point started;
  if (debug) {
    started = std::chrono::steady_clock::now();
    forget_last_stepped();  // a task stepped before this callback may be gone by now
  }
  try {
    callback();
  } catch (const SystemExit&) {
    throw;  // Python lets SystemExit and KeyboardInterrupt out of the loop (LOOP-07)
  } catch (const KeyboardInterrupt&) {
    throw;
  } catch (...) {
    owner().call_exception_handler({"Exception in callback", std::current_exception(), {}, true});
  }
  if (debug) {
    const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (took >= slow_callback_duration) {
      std::string what = take_last_stepped_repr();  // the callback is alive: so is its task
      if (what.empty()) what = "<Handle>";
      char seconds[32];
      std::snprintf(seconds, sizeof seconds, "%.3f", took);
      report("asyncio: Executing " + what + " took " + seconds + " seconds\n");
    }
  }
}

// Python polls the selector on every iteration. With callbacks ready that poll cannot block
// and finds nothing most of the time, yet it is a system call: a third of a task switch. So
// a busy loop polls every kCallbacksBetweenPolls callbacks, or when the coarse clock (a few
// ms, read without a system call) has ticked since the last poll — which bounds how long
// I/O waits behind ready callbacks. A loop with nothing ready polls, and blocks, as before.
bool LoopCore::io_poll_due(const std::optional<double>& timeout) {
  if (!timeout || *timeout > 0 || stopping_ || callbacks_since_poll_ >= kCallbacksBetweenPolls) return true;
  return coarse_tick() != last_poll_tick_;
}

void LoopCore::run_once() {
  take_threadsafe_callbacks();
  const auto timeout = poll_timeout();
  if (io_poll_due(timeout)) {
    reactor_.poll(timeout);
    callbacks_since_poll_ = 0;
    last_poll_tick_ = coarse_tick();
    take_threadsafe_callbacks();
  }
  take_due_timers();
  // Only what is ready now; what these callbacks schedule waits for the next iteration.
  for (std::size_t n = ready_.size(); n > 0 && !ready_.empty(); --n) {
    auto handle = std::move(ready_.front());
    ready_.pop_front();
    ++callbacks_since_poll_;
    if (!handle->cancelled) run_handle(*handle);
  }
}

void LoopCore::run_forever() {
  check_open();
  if (running_) throw RuntimeError("This event loop is already running");
  if (running_loop()) throw RuntimeError("Cannot run the event loop while another loop is running");
  running_ = true;
  set_running_loop(owner_);
  struct Reset {
    LoopCore& core;
    ~Reset() {
      core.running_ = false;
      core.stopping_ = false;
      set_running_loop(nullptr);
    }
  } reset{*this};
  while (true) {
    run_once();
    if (stopping_) break;
  }
}

void LoopCore::close() {
  if (running_) throw RuntimeError("Cannot close a running event loop");
  if (closed_) return;
  {
    std::scoped_lock hold(inbox_lock_);
    closed_ = true;
    inbox_.clear();
    inbox_filled_.store(false, std::memory_order_relaxed);
  }
  ready_.clear();  // pending callbacks and timers never run (LOOP-09)
  fds_.clear();
  signals_.clear();
  reactor_.close_watches();
  reactor_.kill_children();
  while (!timers_.empty()) timers_.pop();
  if (default_executor) default_executor->shutdown(false);  // Python does not wait here
  default_executor_shut_down = true;
}

std::shared_ptr<HandleState> LoopCore::watch_fd(int fd, bool reading,
                                               pyconc::detail::UniqueFunction<void()> callback) {
  check_open();
  auto handle = std::make_shared<HandleState>();
  handle->callback = std::move(callback);
  handle->repeating = true;
  auto& slot = reading ? fds_[fd].reader : fds_[fd].writer;
  auto previous = std::exchange(slot, handle);
  try {
    rewatch(fd);
  } catch (...) {
    slot = std::move(previous);
    if (!fds_[fd].reader && !fds_[fd].writer) fds_.erase(fd);
    throw;
  }
  if (previous) previous->cancelled = true;  // replaced (Python: adding again replaces it)
  return handle;
}

bool LoopCore::unwatch_fd(int fd, bool reading) {
  const auto found = fds_.find(fd);
  if (closed_ || found == fds_.end()) return false;
  auto& slot = reading ? found->second.reader : found->second.writer;
  if (!slot) return false;
  slot->cancelled = true;
  slot.reset();
  rewatch(fd);
  return true;
}

void LoopCore::rewatch(int fd) {
  const auto found = fds_.find(fd);
  const int events = found == fds_.end() ? 0
                                         : (found->second.reader ? UV_READABLE : 0) |
                                               (found->second.writer ? UV_WRITABLE : 0);
  if (events == 0) {
    if (found != fds_.end()) fds_.erase(found);
    reactor_.watch(fd, 0, {});
    return;
  }
  reactor_.watch(fd, events, [this, fd](int ready) {
    const auto watched = fds_.find(fd);
    if (watched == fds_.end()) return;
    const FdHandles handles = watched->second;
    // A handle cancelled by its owner stops the watch here, as Python's selector loop does.
    if (handles.reader && handles.reader->cancelled) unwatch_fd(fd, true);
    if (handles.writer && handles.writer->cancelled) unwatch_fd(fd, false);
    if ((ready & UV_READABLE) && handles.reader && !handles.reader->cancelled) ready_.push_back(handles.reader);
    if ((ready & UV_WRITABLE) && handles.writer && !handles.writer->cancelled) ready_.push_back(handles.writer);
  });
}

int LoopCore::spawn(const Reactor::SpawnRequest& request, pyconc::detail::UniqueFunction<void(int)> on_exit) {
  check_open();
  auto shared = std::make_shared<pyconc::detail::UniqueFunction<void(int)>>(std::move(on_exit));
  return reactor_.spawn(request, [this, shared](int returncode) {
    auto handle = std::make_shared<HandleState>();
    handle->callback = [shared, returncode] { (*shared)(returncode); };
    ready_.push_back(std::move(handle));
  });
}

std::shared_ptr<HandleState> LoopCore::watch_signal(int signum, pyconc::detail::UniqueFunction<void()> callback) {
  check_open();
  if (signum == SIGKILL || signum == SIGSTOP) throw RuntimeError("sig " + std::to_string(signum) + " cannot be caught");
  if (signum < 1 || signum >= NSIG) throw ValueError("sig " + std::to_string(signum) + " out of range(1, " + std::to_string(NSIG) + ")");
  auto handle = std::make_shared<HandleState>();
  handle->callback = std::move(callback);
  handle->repeating = true;
  reactor_.watch_signal(signum, [this, signum] {
    const auto found = signals_.find(signum);
    if (found != signals_.end()) ready_.push_back(found->second);
  });
  if (auto& previous = signals_[signum]) previous->cancelled = true;
  signals_[signum] = handle;
  return handle;
}

bool LoopCore::unwatch_signal(int signum) {
  const auto found = signals_.find(signum);
  if (found == signals_.end()) return false;
  found->second->cancelled = true;
  signals_.erase(found);
  return reactor_.unwatch_signal(signum);
}

void LoopCore::add_task(std::weak_ptr<FutureCore> future, TaskCore* task) {
  // Forget the finished ones each time the registry has doubled since the last sweep:
  // amortised O(1) per task even when 100,000 are pending at once (a sweep every 64 adds
  // made that quadratic).
  if (tasks_.size() >= next_task_sweep_) {
    std::erase_if(tasks_, [](const TaskEntry& e) {
      auto alive = e.future.lock();
      return !alive || alive->done();
    });
    next_task_sweep_ = std::max<std::size_t>(64, 2 * tasks_.size());
  }
  tasks_.push_back({std::move(future), task});
}

std::vector<TaskBase> LoopCore::pending_tasks() {
  std::vector<TaskBase> pending;
  for (const auto& entry : tasks_) {
    auto future = entry.future.lock();
    if (future && !future->done()) pending.emplace_back(std::move(future), entry.task);
  }
  return pending;
}

}  // namespace detail

void Handle::cancel() {
  if (!state_ || state_->cancelled) return;
  state_->cancelled = true;
  // Python drops the callback's references at once. A repeating one may be running right
  // now (a reader cancelling itself): it goes when its watch does.
  if (!state_->repeating) state_->callback.reset();
}

EventLoop::EventLoop() : core_(std::make_shared<detail::LoopCore>(*this)) {}

EventLoop::~EventLoop() {
  if (!core_->running()) core_->close();
  core_->detach_owner();
}

double EventLoop::time() const { return core_->time(); }
void EventLoop::run_forever() { core_->run_forever(); }
void EventLoop::stop() { core_->stop(); }
void EventLoop::close() { core_->close(); }
bool EventLoop::is_running() const { return core_->running(); }
bool EventLoop::is_closed() const { return core_->closed(); }

Handle EventLoop::schedule_soon(pyconc::detail::UniqueFunction<void()> callback) {
  return Handle(core_->call_soon(std::move(callback)));
}
TimerHandle EventLoop::schedule_at(double when, pyconc::detail::UniqueFunction<void()> callback) {
  return TimerHandle(core_->call_at(when, std::move(callback)));
}
Handle EventLoop::schedule_threadsafe(pyconc::detail::UniqueFunction<void()> callback) {
  return Handle(core_->call_soon_threadsafe(std::move(callback)));
}
Handle EventLoop::watch_fd(int fd, bool reading, pyconc::detail::UniqueFunction<void()> callback) {
  return Handle(core_->watch_fd(fd, reading, std::move(callback)));
}
Handle EventLoop::watch_signal(int signum, pyconc::detail::UniqueFunction<void()> callback) {
  return Handle(core_->watch_signal(signum, std::move(callback)));
}
bool EventLoop::remove_reader(int fd) { return core_->unwatch_fd(fd, true); }
bool EventLoop::remove_writer(int fd) { return core_->unwatch_fd(fd, false); }
bool EventLoop::remove_signal_handler(int signum) { return core_->unwatch_signal(signum); }

void EventLoop::run_until_done(detail::FutureCore& future) {
  core_->check_open();
  const auto stop_when_done = future.add_done_callback([this](detail::FutureCore&) { stop(); });
  try {
    run_forever();
  } catch (...) {
    future.remove_done_callback(stop_when_done);
    throw;
  }
  future.remove_done_callback(stop_when_done);
  if (!future.done()) throw RuntimeError("Event loop stopped before Future completed.");
}

void EventLoop::set_exception_handler(ExceptionHandler handler) { core_->exception_handler = std::move(handler); }

void EventLoop::call_exception_handler(const ExceptionContext& context) {
  if (!core_->exception_handler) return default_exception_handler(context);
  try {
    core_->exception_handler(*this, context);
  } catch (...) {
    // Python: the handler's own failure is logged with the original context; the loop goes on.
    ExceptionContext failure{"Unhandled error in exception handler", std::current_exception(), context.future,
                             context.has_handle};
    default_exception_handler(failure);
    default_exception_handler(context);
  }
}

void EventLoop::default_exception_handler(const ExceptionContext& context) {
  std::string text = "asyncio: " + context.message;
  if (!context.future.empty()) text += "\nfuture: " + context.future;
  if (context.exception) {  // appended in two steps: GCC 12 warns (-Wrestrict) on "\n" + temporary
    text += '\n';
    text += pyconc::detail::describe_exception(context.exception);
  }
  text += '\n';
  report(text);
}

void EventLoop::set_debug(bool enabled) { core_->debug = enabled; }
bool EventLoop::get_debug() const { return core_->debug; }
void EventLoop::set_slow_callback_duration(double seconds) { core_->slow_callback_duration = seconds; }

EventLoop& get_running_loop() {
  EventLoop* loop = detail::running_loop();
  if (!loop) throw RuntimeError("no running event loop");
  return *loop;
}

EventLoop* _get_running_loop() { return detail::running_loop(); }

}  // namespace pyconc::asyncio
