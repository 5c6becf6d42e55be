// pyconc::asyncio::Future<T> — Python's asyncio.Future: a result that a callback or another
// task will set, awaited by coroutines of the loop it belongs to. Not thread-safe (Python's
// isn't either): other threads reach it through loop.call_soon_threadsafe.
//
// Python's rules (AFUT-01..05): result() and exception() never block (InvalidStateError while
// pending; CancelledError once cancelled); the first cancel() wins; setting a finished
// future is InvalidStateError; done-callbacks are scheduled on the loop, in the order they
// were added, never run inside set_result. Awaiting a future of another loop is RuntimeError.
//
//   auto fut = asyncio::Future<int>(loop);
//   loop.call_later(10ms, [fut]() mutable { fut.set_result(42); });
//   int x = co_await fut;   // in a coroutine running on `loop`
#pragma once

#include <coroutine>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "pyconc/asyncio/event_loop.hpp"

namespace pyconc::asyncio {

class FutureBase;

namespace detail {

class FutureCore : public std::enable_shared_from_this<FutureCore> {
 public:
  explicit FutureCore(std::shared_ptr<LoopCore> loop);
  virtual ~FutureCore();
  FutureCore(const FutureCore&) = delete;
  FutureCore& operator=(const FutureCore&) = delete;

  bool done() const { return state_ != State::pending; }
  bool cancelled() const { return state_ == State::cancelled; }
  // Python's cancel(msg); a Task overrides it (the request reaches its coroutine).
  virtual bool cancel(const std::string& message);
  void set_exception(std::exception_ptr error);
  // The exception, or null after a result; InvalidStateError while pending; CancelledError.
  std::exception_ptr exception();
  // Raises what result() raises: InvalidStateError, CancelledError, or the exception.
  void raise_unless_result();
  std::uint64_t add_done_callback(std::function<void(FutureCore&)> callback);
  std::size_t remove_done_callback(std::uint64_t id);
  LoopCore& loop() const { return *loop_; }
  const std::shared_ptr<LoopCore>& loop_ptr() const { return loop_; }
  virtual std::string repr() const;

 protected:
  // Marks the future done and schedules its callbacks. The caller checked it was pending.
  void finish_with_result();
  void finish_cancelled(std::string message);
  void check_pending(const char* what) const;
  // Python's "Future exception was never retrieved" (LOOP-15), once, to the exception handler.
  // The destructors call it: `repr` is a function of the most derived type, built only when
  // there is something to report (most futures end with their result read, or none).
  template <class Repr>
  void report_unretrieved(const char* kind, const Repr& repr) noexcept {
    if (has_unretrieved_exception()) report_unretrieved_now(kind, repr());
  }

 private:
  enum class State { pending, cancelled, finished };
  void schedule_callbacks();
  bool has_unretrieved_exception() const noexcept {
    return state_ == State::finished && exception_ && !exception_retrieved_;
  }
  void report_unretrieved_now(const char* kind, const std::string& what) noexcept;

  std::shared_ptr<LoopCore> loop_;
  State state_ = State::pending;
  std::exception_ptr exception_;
  bool exception_retrieved_ = false;
  std::string cancel_message_;
  std::vector<std::pair<std::uint64_t, std::function<void(FutureCore&)>>> callbacks_;
  std::uint64_t next_callback_id_ = 1;
};

template <class T>
using Stored = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

template <class T>
class FutureState : public FutureCore {
 public:
  using FutureCore::FutureCore;
  void set_result(Stored<T> value) {
    check_pending("set_result");
    result_.emplace(std::move(value));
    finish_with_result();
  }
  // What `co_await` and result() give: a copy, since a future may be awaited many times.
  T result() {
    raise_unless_result();
    if constexpr (!std::is_void_v<T>) return *result_;
  }

 private:
  std::optional<Stored<T>> result_;
};

// For awaiters (task.cpp): the running task suspends on `future` (pending) and is woken when
// it is done; true, always (the awaiter's contract).
bool suspend_on(FutureCore& future, std::coroutine_handle<> resume);
// At every resumption: raises the running task's pending CancelledError.
void raise_pending_cancel();

template <class T>
struct FutureAwaiter {
  std::shared_ptr<FutureState<T>> state;
  bool await_ready() const { return state->done(); }  // a done future does not suspend
  bool await_suspend(std::coroutine_handle<> resume) { return suspend_on(*state, resume); }
  T await_resume() {
    raise_pending_cancel();
    return state->result();
  }
};

}  // namespace detail

// A future of any result type, for code that handles several kinds at once.
class FutureBase {
 public:
  FutureBase() = default;
  explicit FutureBase(std::shared_ptr<detail::FutureCore> core) : core_(std::move(core)) {}

  bool done() const { return core().done(); }
  bool cancelled() const { return core().cancelled(); }
  bool cancel(const std::string& message = "") const { return core().cancel(message); }
  std::exception_ptr exception() const { return core().exception(); }
  void set_exception(std::exception_ptr error) const { core().set_exception(std::move(error)); }
  // Python's add_done_callback(fn): fn(future) is scheduled on the loop once it is done. The
  // id it returns is what remove_done_callback takes (C++ functions cannot be compared).
  std::uint64_t add_done_callback(std::function<void(FutureBase)> callback) const;
  std::size_t remove_done_callback(std::uint64_t id) const { return core().remove_done_callback(id); }
  std::string repr() const { return core().repr(); }
  const std::shared_ptr<detail::FutureCore>& core_ptr() const { return core_; }
  friend bool operator==(const FutureBase& a, const FutureBase& b) { return a.core_ == b.core_; }

 protected:
  detail::FutureCore& core() const;
  std::shared_ptr<detail::FutureCore> core_;
};

template <class T>
class Future : public FutureBase {
 public:
  // Python's loop.create_future(): a pending future on `loop`, or on the running loop.
  Future();
  explicit Future(EventLoop& loop) : FutureBase(std::make_shared<detail::FutureState<T>>(loop.core_ptr())) {}
  explicit Future(std::shared_ptr<detail::FutureState<T>> state) : FutureBase(std::move(state)) {}

  T result() const { return state().result(); }
  template <class U = T>
    requires(!std::is_void_v<U>)
  void set_result(U value) const {
    state().set_result(std::move(value));
  }
  template <class U = T>
    requires std::is_void_v<U>
  void set_result() const {
    state().set_result(std::monostate{});
  }
  detail::FutureAwaiter<T> operator co_await() const { return {std::static_pointer_cast<detail::FutureState<T>>(core_)}; }

 private:
  detail::FutureState<T>& state() const { return static_cast<detail::FutureState<T>&>(core()); }
};

template <class T>
Future<T>::Future() : Future(get_running_loop()) {}

namespace detail {
// Python's _copy_future_state: `destination` ends as `source` did — cancelled, failed, or
// with its result. Any pair of asyncio and concurrent futures of result type T.
template <class T, class Source, class Destination>
void copy_outcome(const Source& source, const Destination& destination) {
  if (source.cancelled()) {
    destination.cancel();
  } else if (auto error = source.exception()) {
    destination.set_exception(error);
  } else if constexpr (std::is_void_v<T>) {
    destination.set_result();
  } else {
    destination.set_result(source.result());
  }
}
}  // namespace detail

}  // namespace pyconc::asyncio
