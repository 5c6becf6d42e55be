// TaskGroup's entry, its children's completions, and its exit: Python 3.12's
// asyncio/taskgroups.py, step by step.
#include "pyconc/asyncio/taskgroup.hpp"

#include <algorithm>

#include "loop_core.hpp"

namespace pyconc::asyncio {

namespace {

// Python's _is_base_error: a BaseException that is not an Exception (SystemExit here;
// CancelledError is handled apart).
bool is_base_error(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const SystemExit&) {
    return true;
  } catch (const CancelledError&) {
    return false;
  } catch (const std::exception&) {
    return false;
  } catch (...) {
    return true;
  }
}

bool is_cancelled_error(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const CancelledError&) {
    return true;
  } catch (...) {
    return false;
  }
}

bool is_error(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception&) {
    return true;
  } catch (...) {
    return false;
  }
}

[[noreturn]] void raise_group(std::vector<std::exception_ptr> errors) {
  const bool all_errors = std::all_of(errors.begin(), errors.end(), is_error);
  if (all_errors) throw ExceptionGroup("unhandled errors in a TaskGroup", std::move(errors));
  throw BaseExceptionGroup("unhandled errors in a TaskGroup", std::move(errors));
}

}  // namespace

void TaskGroup::enter() {
  if (entered_) throw RuntimeError("TaskGroup has already been entered");
  parent_ = current_task();
  if (!parent_) throw RuntimeError("TaskGroup cannot determine the parent task");
  entered_ = true;
}

void TaskGroup::check_can_create() const {
  if (!entered_) throw RuntimeError("TaskGroup has not been entered");
  if (exiting_ && tasks_.empty()) throw RuntimeError("TaskGroup is finished");
  if (aborting_) throw RuntimeError("TaskGroup is shutting down");
}

void TaskGroup::adopt(const TaskBase& task) {
  tasks_.push_back(task);
  task.add_done_callback([this, task](FutureBase) { on_task_done(task); });
}

void TaskGroup::abort() {
  aborting_ = true;
  for (auto& task : tasks_)
    if (!task.done()) task.cancel();
}

void TaskGroup::on_task_done(const TaskBase& task) {
  std::erase(tasks_, task);
  if (on_completed_ && tasks_.empty() && !on_completed_->done()) on_completed_->set_result();
  if (task.cancelled()) return;
  const auto error = task.exception();
  if (!error) return;
  errors_.push_back(error);
  if (is_base_error(error) && !base_error_) base_error_ = error;
  if (parent_->done()) {
    get_running_loop().call_exception_handler(
        {"Task has errored out but its parent task is already completed", error, task.repr(), false});
    return;
  }
  if (!aborting_ && !parent_cancel_requested_) {
    // Cancel the body too (it may be awaiting something unrelated), and take the request
    // back at exit, so the parent is not left cancelled.
    abort();
    parent_cancel_requested_ = true;
    parent_->cancel();
  }
}

Coroutine<void> TaskGroup::exit(std::exception_ptr body_error) {
  exiting_ = true;
  if (body_error && is_base_error(body_error) && !base_error_) base_error_ = body_error;
  std::exception_ptr propagate_cancellation = body_error && is_cancelled_error(body_error) ? body_error : nullptr;
  if (parent_cancel_requested_ && parent_->uncancel() == 0) propagate_cancellation = nullptr;
  if (body_error && !aborting_) abort();
  // A loop: the parent may be cancelled again while we wait.
  while (!tasks_.empty()) {
    if (!on_completed_) on_completed_.emplace(get_running_loop());
    std::exception_ptr cancelled;
    try {
      co_await *on_completed_;
    } catch (const CancelledError&) {
      cancelled = std::current_exception();
    }
    if (cancelled && !aborting_) {
      propagate_cancellation = cancelled;
      abort();
    }
    on_completed_.reset();
  }
  if (base_error_) std::rethrow_exception(base_error_);
  if (propagate_cancellation && errors_.empty()) std::rethrow_exception(propagate_cancellation);
  if (body_error && !is_cancelled_error(body_error)) errors_.push_back(body_error);
  if (!errors_.empty()) raise_group(std::exchange(errors_, {}));
}

}  // namespace pyconc::asyncio
