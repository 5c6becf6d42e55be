// pyconc::asyncio::Task<T> — Python's asyncio.Task: a coroutine run by the loop, concurrently
// with the others, and itself a future of the coroutine's result (awaitable many times).
//
// Each task runs in a copy of its creator's context variables, taken when it is created
// (TASK-12, contextvars.hpp).
//
// Cancellation is a request, as in Python (TASK-02..09): cancel(msg) cancels the future the
// task waits on, or, when it waits on none, makes its next await raise CancelledError(msg).
// The coroutine may catch it and finish normally (the task is then not cancelled) or let it
// pass (the task ends cancelled). cancelling() counts the requests; uncancel() takes one back.
// CancelledError is not a std::exception (errors.hpp): `catch (const std::exception&)` does not
// swallow it.
//
//   asyncio::Coroutine<int> work() { co_await asyncio::sleep(1s); co_return 1; }
//   auto task = asyncio::create_task(work(), "worker");
//   task.cancel("stop");               // the sleep raises CancelledError("stop")
#pragma once

#include <coroutine>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "pyconc/asyncio/coroutine.hpp"
#include "pyconc/asyncio/future.hpp"

namespace pyconc::contextvars::detail {
struct ContextData;
}

namespace pyconc::asyncio {

namespace detail {

// A task's type-erased part: its coroutine's resumption, the future it waits on, and the
// cancellation state Python's Task keeps (_must_cancel, _num_cancels_requested).
class TaskCore {
 public:
  TaskCore(std::string name, std::coroutine_handle<> top);
  virtual ~TaskCore();

  // One step: resumes the coroutine where it last suspended (Python's __step).
  void step();
  // Called when the awaited future is done (Python's __wakeup).
  void wakeup();
  bool request_cancel(const std::string& message);
  int cancelling() const { return cancels_requested_; }
  int uncancel();
  const std::string& name() const { return name_; }
  void set_name(std::string name) { name_ = std::move(name); }
  virtual FutureCore& future() = 0;

  // The awaiters' side (future.hpp).
  bool suspend_on(FutureCore& awaited, std::coroutine_handle<> resume);
  // sleep(0): the task resumes at `resume` on the loop's next iteration.
  void yield_once(std::coroutine_handle<> resume);
  void raise_pending_cancel();
  // The task's first step, scheduled by its constructor's caller once the task is complete.
  void schedule_first_step();

 protected:
  // The coroutine has finished: record its result, its exception, or the cancellation.
  virtual void complete() = 0;
  bool must_cancel_ = false;
  std::string cancel_message_;
  std::coroutine_handle<> top_;

 private:
  std::string name_;
  std::coroutine_handle<> resume_point_;
  std::shared_ptr<FutureCore> waiting_on_;
  std::optional<std::string> cancel_to_raise_;
  int cancels_requested_ = 0;
  // A copy of the creator's context variables (contextvars.hpp), entered at every step.
  std::shared_ptr<contextvars::detail::ContextData> context_;
};

std::string next_task_name();
// The repr of the task the current callback stepped, if one did (and forgets it): debug
// mode names the slow task, as Python's "Executing <Task ...> took 0.300 seconds".
std::string take_last_stepped_repr();
void forget_last_stepped();
// Python's "Task was destroyed but it is pending!" (LOOP-15).
void report_destroyed_pending(const FutureCore& task) noexcept;
// Registers a task in its loop's all_tasks (weakly) and schedules its first step.
void start_task(TaskCore& task, FutureCore& future);

template <class T>
class TaskState final : public FutureState<T>, public TaskCore {
 public:
  TaskState(std::shared_ptr<LoopCore> loop, typename Coroutine<T>::Handle coroutine, std::string name)
      : FutureState<T>(std::move(loop)), TaskCore(std::move(name), coroutine), coroutine_(coroutine) {}
  ~TaskState() override {
    if (!this->done()) report_destroyed_pending(*this);
    this->report_unretrieved("Task", [this] { return repr(); });
    if (coroutine_) coroutine_.destroy();
  }
  bool cancel(const std::string& message) override { return request_cancel(message); }
  FutureCore& future() override { return *this; }
  std::string repr() const override;

 private:
  void complete() override {
    auto& promise = coroutine_.promise();
    try {
      if (promise.error) std::rethrow_exception(promise.error);
      if (must_cancel_) {
        this->finish_cancelled(cancel_message_);  // cancelled after its last await (TASK-06)
      } else if constexpr (std::is_void_v<T>) {
        this->set_result(std::monostate{});
      } else {
        this->set_result(std::move(*promise.value));
      }
    } catch (const CancelledError& e) {
      this->finish_cancelled(e.what());
    } catch (...) {
      this->set_exception(std::current_exception());
    }
    coroutine_.destroy();  // its locals go now, not when the last handle to the task does
    coroutine_ = {};
    top_ = {};
  }
  typename Coroutine<T>::Handle coroutine_;
};

std::string task_repr(const TaskCore& task, const FutureCore& future);
template <class T>
std::string TaskState<T>::repr() const {
  return task_repr(*this, *this);
}

}  // namespace detail

// A task of any result type (Python's Task, for current_task() and all_tasks()).
class TaskBase : public FutureBase {
 public:
  TaskBase() = default;
  TaskBase(std::shared_ptr<detail::FutureCore> future, detail::TaskCore* task)
      : FutureBase(std::move(future)), task_(task) {}
  std::string get_name() const { return task().name(); }
  void set_name(std::string name) const { task().set_name(std::move(name)); }
  int cancelling() const { return task().cancelling(); }
  int uncancel() const { return task().uncancel(); }

 protected:
  detail::TaskCore& task() const;
  detail::TaskCore* task_ = nullptr;
};

template <class T>
class Task : public TaskBase {
 public:
  Task() = default;
  explicit Task(std::shared_ptr<detail::TaskState<T>> state) : TaskBase(state, state.get()) {}

  T result() const { return state().result(); }
  detail::FutureAwaiter<T> operator co_await() const { return {std::static_pointer_cast<detail::FutureState<T>>(core_)}; }
  operator Future<T>() const {  // NOLINT: a Task is a Future, as in Python
    return Future<T>(std::static_pointer_cast<detail::FutureState<T>>(core_));
  }

 private:
  detail::TaskState<T>& state() const { return static_cast<detail::TaskState<T>&>(core()); }
};

// Python's create_task(coro, name=...): on `loop`, or on the running loop. The task does not
// start before its creator yields to the loop (TASK-01).
template <class T>
Task<T> create_task(EventLoop& loop, Coroutine<T> coroutine, std::string name = {}) {
  auto handle = coroutine.release();
  if (!handle) throw TypeError("create_task: the coroutine was already awaited or moved from");
  auto state = std::make_shared<detail::TaskState<T>>(loop.core_ptr(), handle,
                                                      name.empty() ? detail::next_task_name() : std::move(name));
  detail::start_task(*state, *state);
  return Task<T>(std::move(state));
}
template <class T>
Task<T> create_task(Coroutine<T> coroutine, std::string name = {}) {
  return create_task(get_running_loop(), std::move(coroutine), std::move(name));
}
// The safe form for lambda coroutines: the callable (with its captures) lives as long as its
// coroutine does.
template <class F>
  requires std::is_invocable_v<F&>
auto create_task(F callable, std::string name = {}) {
  using C = std::invoke_result_t<F&>;
  auto runner = [](F f) -> C { co_return co_await f(); };
  return create_task(runner(std::move(callable)), std::move(name));
}

// Python's current_task(): the task running now; empty when a callback (not a task) runs.
// RuntimeError outside a running loop.
std::optional<TaskBase> current_task();
// Python's all_tasks(): the loop's tasks not yet done.
std::vector<TaskBase> all_tasks();

// Python's asyncio.sleep(delay): resumes after `delay` (at once, on the next iteration, for
// zero or less: sleep(0) lets every callback already scheduled run first). Cancelling the
// sleeping task cancels its timer (SLP-02).
Coroutine<void> sleep(std::chrono::duration<double> delay);
template <class T>
Coroutine<T> sleep(std::chrono::duration<double> delay, T result) {
  co_await sleep(delay);
  co_return result;
}

template <class T>
Task<T> EventLoop::create_task(Coroutine<T> coroutine, std::string name) {
  return asyncio::create_task(*this, std::move(coroutine), std::move(name));
}

template <class T>
T EventLoop::run_until_complete(Future<T> future) {
  run_until_done(*future.core_ptr());
  return future.result();
}

template <class T>
T EventLoop::run_until_complete(Coroutine<T> coroutine) {
  Task<T> task = create_task(std::move(coroutine));
  run_until_done(*task.core_ptr());
  return task.result();
}

}  // namespace pyconc::asyncio
