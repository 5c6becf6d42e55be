// pyconc::futures::Future<T> — Python's concurrent.futures.Future.
//
// A cheap, copyable handle to shared state, like a Python reference. result(timeout)
// returns the value (a reference into the shared state, so move-only results can be moved
// out), rethrows the task's own exception, throws CancelledError if cancelled and
// TimeoutError on timeout. cancel() works only while pending. Done-callbacks run in the
// thread that completes the future (at once if it is already done); an exception from a
// callback is reported and ignored. A future whose exception nobody retrieved reports it
// once, when its last handle dies (set_unretrieved_exception_hook to redirect).
// FutureBase is the type-erased handle, for collections of futures of different types.
//
//   pyconc::futures::Future<int> f = pool.submit([] { return 6 * 7; });
//   f.add_done_callback([](const auto& done) { std::printf("%d\n", done.result()); });
//   int x = f.result(2s);                     // TimeoutError after 2 s
#pragma once

#include <compare>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>

#include "pyconc/futures/future_state.hpp"

namespace pyconc::futures {

class FutureBase {
 public:
  explicit FutureBase(std::shared_ptr<detail::FutureStateBase> state) : state_(std::move(state)) {}

  bool done() const { return state_->done(); }
  bool running() const { return state_->running(); }
  bool cancelled() const { return state_->cancelled(); }
  bool cancel() const { return state_->cancel(); }
  // Python's exception(timeout): null when the call succeeded.
  std::exception_ptr exception(Timeout timeout = forever) const { return state_->exception(timeout); }
  void add_done_callback(std::function<void(const FutureBase&)> fn) const {
    state_->add_done_callback(std::move(fn));
  }
  // For executor writers (Python's "internal" API).
  bool set_running_or_notify_cancel() const { return state_->set_running_or_notify_cancel(); }
  void set_exception(std::exception_ptr e) const { state_->set_exception(std::move(e)); }
  std::string repr() const { return state_->repr(); }

  detail::FutureStateBase* state_ptr() const { return state_.get(); }
  const std::shared_ptr<detail::FutureStateBase>& shared_state() const { return state_; }
  friend bool operator==(const FutureBase& a, const FutureBase& b) { return a.state_ == b.state_; }
  friend auto operator<=>(const FutureBase& a, const FutureBase& b) {
    return std::compare_three_way()(a.state_.get(), b.state_.get());
  }

 protected:
  std::shared_ptr<detail::FutureStateBase> state_;
};

template <class T>
class Future : public FutureBase {
 public:
  // Python's Future(): a new pending future, for executor writers.
  Future() : Future(std::make_shared<detail::FutureState<T>>()) {}
  explicit Future(std::shared_ptr<detail::FutureState<T>> state) : FutureBase(std::move(state)) {}

  // Python's result(timeout=None). For T = void it returns nothing.
  std::add_lvalue_reference_t<T> result(Timeout timeout = forever) const {
    state_->wait_for_result(timeout);
    if constexpr (!std::is_void_v<T>) return typed().value();
  }

  template <class... U>
  void set_result(U&&... value) const {
    typed().set_result(std::forward<U>(value)...);
  }

  // The callback receives this future's type, so it can read result() directly; a generic
  // lambda ([](auto& f) {...}) and one taking `const FutureBase&` both work.
  template <class F>
    requires std::is_invocable_v<F&, const Future<T>&>
  void add_done_callback(F fn) const {
    state_->add_done_callback([fn = std::move(fn)](const FutureBase& base) mutable {
      const Future<T> typed = Future<T>::from_base(base);  // an lvalue: auto& binds to it
      fn(typed);
    });
  }

  // A typed handle from a type-erased one; the caller guarantees the type.
  static Future from_base(const FutureBase& base) {
    return Future(std::static_pointer_cast<detail::FutureState<T>>(base.shared_state()));
  }

 private:
  detail::FutureState<T>& typed() const { return static_cast<detail::FutureState<T>&>(*state_); }
};

}  // namespace pyconc::futures

template <>
struct std::hash<pyconc::futures::FutureBase> {
  std::size_t operator()(const pyconc::futures::FutureBase& f) const noexcept {
    return std::hash<const void*>()(f.state_ptr());
  }
};
template <class T>
struct std::hash<pyconc::futures::Future<T>> : std::hash<pyconc::futures::FutureBase> {};
