// asyncio.timeout's states (Python 3.12's asyncio/timeouts.py).
#include "pyconc/asyncio/timeouts.hpp"

namespace pyconc::asyncio {

void Timeout::reschedule(std::optional<double> when) {
  if (state_ != State::entered) {
    if (state_ == State::created) throw RuntimeError("Timeout has not been entered");
    throw RuntimeError("Cannot change state of an expiring, expired or finished Timeout");
  }
  when_ = when;
  if (handle_) handle_->cancel();
  handle_.reset();
  if (!when) return;
  EventLoop& loop = get_running_loop();
  if (*when <= loop.time()) {
    handle_ = loop.call_soon([this] { on_timeout(); });
  } else {
    handle_ = loop.call_at(*when, [this] { on_timeout(); });
  }
}

void Timeout::enter() {
  if (state_ != State::created) throw RuntimeError("Timeout has already been entered");
  task_ = current_task();
  if (!task_) throw RuntimeError("Timeout should be used inside a task");
  state_ = State::entered;
  cancelling_ = task_->cancelling();
  reschedule(when_);
}

void Timeout::on_timeout() {
  task_->cancel();
  state_ = State::expiring;
  handle_.reset();
}

void Timeout::exit(std::exception_ptr error) {
  if (handle_) handle_->cancel();
  handle_.reset();
  if (state_ == State::entered) {
    state_ = State::exited;
  } else if (state_ == State::expiring) {
    state_ = State::expired;
    // No newer cancel request: this cancellation is ours to turn into TimeoutError.
    if (task_->uncancel() <= cancelling_ && error) {
      try {
        std::rethrow_exception(error);
      } catch (const CancelledError&) {
        throw TimeoutError("timeout: the deadline passed");
      } catch (...) {
        // Another exception replaces the timeout (TMO-05): it goes on below.
      }
    }
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace pyconc::asyncio
