// asyncio futures: the states, the done-callbacks scheduled on the loop, and the report of
// an exception nobody retrieved.
#include "loop_core.hpp"
#include "pyconc/detail/type_name.hpp"
#include "pyconc/report.hpp"

namespace pyconc::asyncio {

namespace detail {

FutureCore::FutureCore(std::shared_ptr<LoopCore> loop) : loop_(std::move(loop)) {}

// A derived state (a Task) reported already, in its own destructor, with its own repr.
FutureCore::~FutureCore() {
  report_unretrieved("Future", [this] { return FutureCore::repr(); });
}

void FutureCore::report_unretrieved_now(const char* kind, const std::string& what) noexcept {
  exception_retrieved_ = true;
  try {
    const ExceptionContext context{std::string(kind) + " exception was never retrieved", exception_, what, false};
    if (loop_->has_owner()) {
      loop_->owner().call_exception_handler(context);
    } else {
      report("asyncio: " + context.message + "\nfuture: " + what + "\n" +
             pyconc::detail::describe_exception(exception_) + "\n");
    }
  } catch (...) {
    // Reporting never becomes a second error.
  }
}

void FutureCore::check_pending(const char* what) const {
  if (state_ != State::pending) throw InvalidStateError(std::string(what) + ": invalid state");
}

bool FutureCore::cancel(const std::string& message) {
  if (state_ != State::pending) return false;
  finish_cancelled(message);
  return true;
}

void FutureCore::finish_cancelled(std::string message) {
  state_ = State::cancelled;
  cancel_message_ = std::move(message);
  schedule_callbacks();
}

void FutureCore::finish_with_result() {
  state_ = State::finished;
  schedule_callbacks();
}

void FutureCore::set_exception(std::exception_ptr error) {
  check_pending("set_exception");
  if (!error) throw TypeError("set_exception needs an exception");
  exception_ = std::move(error);
  state_ = State::finished;
  schedule_callbacks();
}

std::exception_ptr FutureCore::exception() {
  if (state_ == State::pending) throw InvalidStateError("Exception is not set.");
  if (state_ == State::cancelled) throw CancelledError(cancel_message_);
  exception_retrieved_ = true;
  return exception_;
}

void FutureCore::raise_unless_result() {
  if (state_ == State::pending) throw InvalidStateError("Result is not ready.");
  if (state_ == State::cancelled) throw CancelledError(cancel_message_);
  exception_retrieved_ = true;
  if (exception_) std::rethrow_exception(exception_);
}

std::uint64_t FutureCore::add_done_callback(std::function<void(FutureCore&)> callback) {
  const std::uint64_t id = next_callback_id_++;
  if (state_ != State::pending) {
    loop_->call_soon([self = shared_from_this(), callback = std::move(callback)] { callback(*self); });
  } else {
    callbacks_.emplace_back(id, std::move(callback));
  }
  return id;
}

std::size_t FutureCore::remove_done_callback(std::uint64_t id) {
  return std::erase_if(callbacks_, [id](const auto& entry) { return entry.first == id; });
}

void FutureCore::schedule_callbacks() {
  auto callbacks = std::move(callbacks_);
  callbacks_.clear();
  if (loop_->closed()) return;  // nothing will run them
  auto self = shared_from_this();
  for (auto& [id, callback] : callbacks)
    loop_->call_soon([self, callback = std::move(callback)] { callback(*self); });
}

std::string FutureCore::repr() const {
  switch (state_) {
    case State::pending:
      return "<Future pending>";
    case State::cancelled:
      return "<Future cancelled>";
    case State::finished:
      return exception_ ? "<Future finished exception=" + pyconc::detail::describe_exception(exception_) + ">"
                        : "<Future finished>";
  }
  return "<Future>";
}

}  // namespace detail

detail::FutureCore& FutureBase::core() const {
  if (!core_) throw InvalidStateError("this future refers to nothing");
  return *core_;
}

std::uint64_t FutureBase::add_done_callback(std::function<void(FutureBase)> callback) const {
  return core().add_done_callback([callback = std::move(callback)](detail::FutureCore& future) {
    callback(FutureBase(future.shared_from_this()));
  });
}

}  // namespace pyconc::asyncio
