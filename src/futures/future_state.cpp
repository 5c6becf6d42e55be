#include "pyconc/futures/future_state.hpp"

#include <algorithm>
#include <mutex>
#include <sstream>
#include <utility>

#include "detail/parking_lot.hpp"
#include "pyconc/detail/type_name.hpp"
#include "pyconc/futures/future.hpp"
#include "pyconc/os.hpp"
#include "pyconc/report.hpp"
#include "detail/built_at_load.hpp"

namespace pyconc::futures {

namespace pl = pyconc::detail::parking_lot;

namespace detail {

namespace {

using pyconc::detail::describe_exception;

void default_unretrieved_hook(const std::exception_ptr& e, const std::string& future) {
  pyconc::report("Future exception was never retrieved\nfuture: " + future + "\n" +
                 describe_exception(e) + "\n");
}

// The installed hook; never destroyed (futures may die after main() returns), and
// consistent across fork().
struct HookSlot {
  threading::Lock lock;
  UnretrievedExceptionHook hook = default_unretrieved_hook;
};
HookSlot& hook_slot() {
  static HookSlot* s = [] {
    auto* created = new HookSlot;
    pyconc::os::detail::fork_protect(created->lock);
    return created;
  }();
  return *s;
}
PYCONC_BUILD_AT_LOAD(hook_slot());

void report_callback_exception(const FutureStateBase& future) {
  pyconc::report("exception calling callback for " + future.repr() + "\n" +
                 describe_exception(std::current_exception()) + "\n");
}

const char* state_name(State s) {
  switch (s) {
    case State::pending: return "pending";
    case State::running: return "running";
    case State::cancelled: return "cancelled";
    case State::cancelled_and_notified: return "cancelled";
    case State::finished: return "finished";
  }
  return "?";
}

}  // namespace

BlockingObserver*& current_blocking_observer() {
  thread_local BlockingObserver* observer = nullptr;
  return observer;
}

FutureStateBase::~FutureStateBase() {
  if (exception_ && !exception_retrieved_.load()) {
    UnretrievedExceptionHook hook;
    {
      std::scoped_lock hold(hook_slot().lock);
      hook = hook_slot().hook;
    }
    try {
      hook(exception_, repr());
    } catch (...) {
      // A reporting hook must not turn a destructor into std::terminate.
    }
  }
}

bool FutureStateBase::done() const {
  const State s = state();
  return s == State::cancelled || s == State::cancelled_and_notified || s == State::finished;
}

bool FutureStateBase::cancelled() const {
  const State s = state();
  return s == State::cancelled || s == State::cancelled_and_notified;
}

bool FutureStateBase::done_for_waiters() const {
  const State s = state();
  return s == State::cancelled_and_notified || s == State::finished;
}

bool FutureStateBase::cancel() {
  std::vector<std::function<void(const FutureBase&)>> callbacks;
  {
    std::scoped_lock hold(lock_);
    const State s = state();
    if (s == State::cancelled || s == State::cancelled_and_notified) return true;
    State expected = State::pending;
    if (!state_.compare_exchange_strong(expected, State::cancelled, std::memory_order_acq_rel))
      return false;  // running or finished (perhaps just now)
    notify_waiters_locked(State::cancelled);
    callbacks = take_callbacks_locked();
  }
  wake_and_run_callbacks(callbacks);
  return true;
}

bool FutureStateBase::set_running_or_notify_cancel() {
  // The common case in one step: pending -> running. cancel() changes the state only under
  // the lock with the same kind of exchange, so exactly one of the two wins.
  State expected = State::pending;
  if (state_.compare_exchange_strong(expected, State::running, std::memory_order_acq_rel))
    return true;
  {
    std::scoped_lock hold(lock_);
    const State s = state();
    if (s == State::pending) {
      state_.store(State::running, std::memory_order_release);
      return true;
    }
    if (s != State::cancelled) throw RuntimeError("Future in unexpected state: " + repr());
    state_.store(State::cancelled_and_notified, std::memory_order_release);
    notify_waiters_locked(State::cancelled_and_notified);
  }
  return false;
}

void FutureStateBase::set_exception(std::exception_ptr e) {
  finish([&] { exception_ = std::move(e); });
}

void FutureStateBase::finish(pyconc::detail::FunctionRef<void()> store) {
  std::vector<std::function<void(const FutureBase&)>> callbacks;
  {
    std::scoped_lock hold(lock_);
    const State s = state();
    if (s == State::cancelled || s == State::cancelled_and_notified || s == State::finished)
      throw InvalidStateError(std::string(state_name(s)) + ": " + repr());
    store();
    state_.store(State::finished, std::memory_order_release);
    notify_waiters_locked(State::finished);
    callbacks = take_callbacks_locked();
  }
  wake_and_run_callbacks(callbacks);
}

FutureStateBase::Observers& FutureStateBase::observers_locked() {
  if (!observers_) observers_ = std::make_unique<Observers>();
  return *observers_;
}

FutureStateBase::Callbacks FutureStateBase::take_callbacks_locked() {
  return observers_ ? std::exchange(observers_->callbacks, {}) : Callbacks{};
}

void FutureStateBase::notify_waiters_locked(State state) {
  if (!observers_) return;
  for (Waiter* w : observers_->waiters) w->on_done(this, state);
}

void FutureStateBase::wake_and_run_callbacks(
    std::vector<std::function<void(const FutureBase&)>>& callbacks) {
  if (parked_.load(std::memory_order_seq_cst) > 0) pl::unpark_all(this);
  if (callbacks.empty()) return;
  const FutureBase handle(shared_from_this());
  for (auto& fn : callbacks) {
    try {
      fn(handle);
    } catch (...) {
      report_callback_exception(*this);
    }
  }
}

bool FutureStateBase::park_until_done(const Deadline& deadline) {
  const BlockingRegion blocking;
  while (!done()) {
    if (deadline.expired()) return false;
    // Dekker with wake_and_run_callbacks(): count ourselves, then re-check the state.
    parked_.fetch_add(1, std::memory_order_seq_cst);
    const auto outcome = pl::park(this, [this] { return !done(); }, deadline);
    parked_.fetch_sub(1, std::memory_order_relaxed);
    if (outcome.result == pl::ParkResult::timed_out) return done();
  }
  return true;
}

bool FutureStateBase::wait_done(const Deadline& deadline) {
  if (done()) return true;
  if (deadline.expired()) return false;
  return park_until_done(deadline);
}

void FutureStateBase::wait_for_result(const Timeout& timeout) {
  if (!wait_done(timeout.deadline())) throw TimeoutError();
  if (cancelled()) throw CancelledError();
  if (exception_) {
    exception_retrieved_.store(true);
    std::rethrow_exception(exception_);
  }
}

std::exception_ptr FutureStateBase::exception(const Timeout& timeout) {
  if (!wait_done(timeout.deadline())) throw TimeoutError();
  if (cancelled()) throw CancelledError();
  exception_retrieved_.store(true);
  return exception_;
}

bool FutureStateBase::has_exception() {
  return state() == State::finished && exception_ != nullptr;
}

void FutureStateBase::add_done_callback(std::function<void(const FutureBase&)> fn) {
  {
    std::scoped_lock hold(lock_);
    if (!done()) {
      observers_locked().callbacks.push_back(std::move(fn));
      return;
    }
  }
  try {
    fn(FutureBase(shared_from_this()));
  } catch (...) {
    report_callback_exception(*this);
  }
}

bool FutureStateBase::add_waiter(Waiter* waiter) {
  std::scoped_lock hold(lock_);
  if (done_for_waiters()) return false;
  observers_locked().waiters.push_back(waiter);
  return true;
}

void FutureStateBase::remove_waiter(Waiter* waiter) {
  std::scoped_lock hold(lock_);
  if (!observers_) return;
  auto& waiters = observers_->waiters;
  auto it = std::find(waiters.begin(), waiters.end(), waiter);
  if (it != waiters.end()) waiters.erase(it);
}

std::string FutureStateBase::repr() const {
  std::ostringstream out;
  out << "<Future at " << static_cast<const void*>(this) << " state=" << state_name(state());
  if (state() == State::finished) {
    if (exception_) out << " raised " << describe_exception(exception_);
    else out << " returned";
  }
  out << ">";
  return out.str();
}

}  // namespace detail

detail::UnretrievedExceptionHook set_unretrieved_exception_hook(
    detail::UnretrievedExceptionHook hook) {
  if (!hook) hook = detail::default_unretrieved_hook;
  std::scoped_lock hold(detail::hook_slot().lock);
  std::swap(detail::hook_slot().hook, hook);
  return hook;
}

}  // namespace pyconc::futures
