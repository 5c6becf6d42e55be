// Tasks: Python's Task.__step and __wakeup, cancellation as a request, current_task,
// all_tasks, and sleep.
#include <atomic>

#include "loop_core.hpp"
#include "pyconc/contextvars.hpp"
#include "pyconc/report.hpp"

namespace pyconc::asyncio {

namespace detail {

namespace {

thread_local TaskCore* running_task = nullptr;
thread_local TaskCore* last_stepped = nullptr;  // for debug mode's report of a slow step

TaskCore& running() {
  if (!running_task) throw RuntimeError("await outside a task: run the coroutine with asyncio::run or create_task");
  return *running_task;
}

// sleep(0): give the loop one iteration, then continue (Python's bare `yield`).
struct YieldOnce {
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> resume) { running().yield_once(resume); }
  void await_resume() const { raise_pending_cancel(); }
};

}  // namespace

TaskCore::TaskCore(std::string name, std::coroutine_handle<> top)
    : top_(top), name_(std::move(name)), resume_point_(top), context_(contextvars::copy_context().data()) {}

TaskCore::~TaskCore() {
  if (last_stepped == this) last_stepped = nullptr;  // never a dangling pointer for debug mode
}

void TaskCore::step() {
  if (future().done()) return;
  if (must_cancel_) {  // delivered at the await the coroutine resumes from
    must_cancel_ = false;
    cancel_to_raise_ = cancel_message_;
  }
  waiting_on_.reset();
  last_stepped = this;
  TaskCore* previous = std::exchange(running_task, this);
  struct Restore {
    TaskCore* previous;
    ~Restore() { running_task = previous; }
  } restore{previous};
  contextvars::detail::Entered in_context(*context_);
  resume_point_.resume();
  if (top_ && top_.done()) complete();
}

void TaskCore::wakeup() { step(); }

bool TaskCore::request_cancel(const std::string& message) {
  if (future().done()) return false;
  ++cancels_requested_;
  if (waiting_on_ && waiting_on_->cancel(message)) return true;  // the wake-up brings it
  must_cancel_ = true;
  cancel_message_ = message;
  return true;
}

int TaskCore::uncancel() {
  if (cancels_requested_ > 0) --cancels_requested_;
  // Python 3.13: with no request left, a cancellation not yet delivered is dropped too.
  if (cancels_requested_ == 0) must_cancel_ = false;
  return cancels_requested_;
}

bool TaskCore::suspend_on(FutureCore& awaited, std::coroutine_handle<> resume) {
  FutureCore& self = future();
  if (&awaited == &self) throw RuntimeError("Task cannot await on itself: " + self.repr());
  if (&awaited.loop() != &self.loop()) throw RuntimeError("Task got Future attached to a different loop");
  waiting_on_ = awaited.shared_from_this();
  resume_point_ = resume;
  awaited.add_done_callback([keep = self.shared_from_this(), this](FutureCore&) { wakeup(); });
  // Python: a task with a cancel pending cancels what it starts to wait on (TASK-07).
  if (must_cancel_ && awaited.cancel(cancel_message_)) must_cancel_ = false;
  return true;
}

void TaskCore::yield_once(std::coroutine_handle<> resume) {
  resume_point_ = resume;
  future().loop().call_soon([keep = future().shared_from_this(), this] { step(); });
}

void TaskCore::raise_pending_cancel() {
  if (!cancel_to_raise_) return;
  std::string message = std::move(*cancel_to_raise_);
  cancel_to_raise_.reset();
  throw CancelledError(std::move(message));
}

void TaskCore::schedule_first_step() {
  future().loop().call_soon([keep = future().shared_from_this(), this] { step(); });
}

std::string next_task_name() {
  static std::atomic<std::uint64_t> counter{0};
  return "Task-" + std::to_string(++counter);
}

void start_task(TaskCore& task, FutureCore& future) {
  future.loop().check_open();
  future.loop().add_task(future.shared_from_this(), &task);
  task.schedule_first_step();
}

bool suspend_on(FutureCore& future, std::coroutine_handle<> resume) { return running().suspend_on(future, resume); }

void forget_last_stepped() { last_stepped = nullptr; }

std::string take_last_stepped_repr() {
  TaskCore* task = std::exchange(last_stepped, nullptr);
  return task ? task->future().repr() : std::string();
}

void raise_pending_cancel() {
  if (running_task) running_task->raise_pending_cancel();
}

void report_never_awaited() {
  report("RuntimeWarning: coroutine was never awaited (a Coroutine destroyed before it ran)\n");
}

void report_destroyed_pending(const FutureCore& task) noexcept {
  try {
    const ExceptionContext context{"Task was destroyed but it is pending!", nullptr, task.repr(), false};
    if (task.loop().has_owner()) {
      task.loop().owner().call_exception_handler(context);
    } else {
      report("asyncio: " + context.message + "\ntask: " + context.future + "\n");
    }
  } catch (...) {
  }
}

std::string task_repr(const TaskCore& task, const FutureCore& future) {
  const char* state = !future.done() ? "pending" : future.cancelled() ? "cancelled" : "finished";
  return std::string("<Task ") + state + " name='" + task.name() + "'>";
}

}  // namespace detail

detail::TaskCore& TaskBase::task() const {
  if (!task_) throw InvalidStateError("this task handle refers to nothing");
  return *task_;
}

std::optional<TaskBase> current_task() {
  get_running_loop();  // RuntimeError outside a running loop
  detail::TaskCore* task = detail::running_task;
  if (!task) return std::nullopt;
  return TaskBase(task->future().shared_from_this(), task);
}

std::vector<TaskBase> all_tasks() { return get_running_loop().core().pending_tasks(); }

Coroutine<void> sleep(std::chrono::duration<double> delay) {
  if (delay.count() <= 0) {
    co_await detail::YieldOnce{};
    co_return;
  }
  EventLoop& loop = get_running_loop();
  Future<void> done(loop);
  TimerHandle timer = loop.call_later(delay, [done] {
    if (!done.done()) done.set_result();
  });
  try {
    co_await done;
  } catch (...) {
    timer.cancel();  // SLP-02: a cancelled sleep leaves no timer behind
    throw;
  }
}

}  // namespace pyconc::asyncio
