// pyconc::asyncio::TaskGroup — Python 3.11's structured concurrency:
//
//   async with asyncio.TaskGroup() as tg:          co_await asyncio::TaskGroup().run(
//       t1 = tg.create_task(work(1))                   [&](asyncio::TaskGroup& tg) -> asyncio::Coroutine<void> {
//       t2 = tg.create_task(work(2))                     t1 = tg.create_task(work(1));
//                                                        t2 = tg.create_task(work(2));
//                                                        co_return;
//                                                      });
//
// The body runs in the calling task. Leaving it waits for every child (TG-01). The first child
// that fails cancels its siblings and the body (TG-02); once all are done the group raises an
// ExceptionGroup of the errors, body's included (TG-03). Cancelled from outside, the children
// are cancelled and a plain CancelledError goes on (TG-04). SystemExit passes bare (TG-06).
// C++ has no `async with`, so the body is a callable taking the group (its captures live in
// the caller's frame, which outlives the body).
#pragma once

#include <exception>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "pyconc/asyncio/task.hpp"

namespace pyconc::asyncio {

class TaskGroup {
 public:
  TaskGroup() = default;
  TaskGroup(const TaskGroup&) = delete;
  TaskGroup& operator=(const TaskGroup&) = delete;

  // Runs `body(group)` as the `async with` block, then waits for the children.
  template <class F>
    requires std::is_invocable_v<F&, TaskGroup&>
  auto run(F body) -> Coroutine<typename std::invoke_result_t<F&, TaskGroup&>::value_type>;

  // RuntimeError before run() ("has not been entered"), once finished ("is finished"), and
  // after a failure ("is shutting down"), as Python's (TG-08).
  template <class T>
  Task<T> create_task(Coroutine<T> coroutine, std::string name = {}) {
    check_can_create();
    Task<T> task = asyncio::create_task(std::move(coroutine), std::move(name));
    adopt(task);
    return task;
  }
  template <class F>
    requires std::is_invocable_v<F&>
  auto create_task(F callable, std::string name = {}) {
    check_can_create();
    auto task = asyncio::create_task(std::move(callable), std::move(name));
    adopt(task);
    return task;
  }

 private:
  void enter();
  void check_can_create() const;
  void adopt(const TaskBase& task);
  void on_task_done(const TaskBase& task);
  void abort();
  Coroutine<void> exit(std::exception_ptr body_error);

  bool entered_ = false;
  bool exiting_ = false;
  bool aborting_ = false;
  bool parent_cancel_requested_ = false;
  std::optional<TaskBase> parent_;
  std::vector<TaskBase> tasks_;
  std::vector<std::exception_ptr> errors_;
  std::exception_ptr base_error_;
  std::optional<Future<void>> on_completed_;
};

template <class F>
  requires std::is_invocable_v<F&, TaskGroup&>
auto TaskGroup::run(F body) -> Coroutine<typename std::invoke_result_t<F&, TaskGroup&>::value_type> {
  using R = typename std::invoke_result_t<F&, TaskGroup&>::value_type;
  enter();
  std::exception_ptr error;
  std::optional<detail::Stored<R>> result;
  try {
    if constexpr (std::is_void_v<R>) {
      co_await body(*this);
      result.emplace();
    } else {
      result.emplace(co_await body(*this));
    }
  } catch (...) {
    error = std::current_exception();
  }
  co_await exit(error);
  if (error) std::rethrow_exception(error);  // Python: __aexit__ returned None, it goes on
  if constexpr (!std::is_void_v<R>) co_return std::move(*result);
}

// The same as TaskGroup().run(body), for a group nobody needs to name.
template <class F>
  requires std::is_invocable_v<F&, TaskGroup&>
auto task_group(F body) -> Coroutine<typename std::invoke_result_t<F&, TaskGroup&>::value_type> {
  TaskGroup group;
  co_return co_await group.run(std::move(body));
}

}  // namespace pyconc::asyncio
