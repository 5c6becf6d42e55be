// pyconc::asyncio::Coroutine<T> — what `async def` makes: a coroutine function returns one,
// and nothing runs until it is awaited or wrapped in a task.
//
//   asyncio::Coroutine<int> fetch(int id) {      // async def fetch(id):
//     co_await asyncio::sleep(10ms);             //     await asyncio.sleep(0.01)
//     co_return id * 2;                          //     return id * 2
//   }
//   int x = co_await fetch(1);                   // x = await fetch(1): runs inline, in this task
//   auto task = asyncio::create_task(fetch(2));  // runs concurrently, on the loop
//
// Lifetimes, the rule that keeps coroutines safe (the C++ rule, which Python does not need):
// a coroutine's parameters are copied into its frame, so take them BY VALUE — a reference
// parameter outlives its argument as soon as the coroutine is handed to a task. A lambda
// coroutine's captures live in the lambda object, not in the frame: pass the lambda itself
// to create_task / run (which keep it alive as long as its coroutine runs), never call it
// and keep only its coroutine.
//
// A Coroutine is awaited once (again: RuntimeError); a Task is what may be awaited many times.
// A coroutine destroyed before it ever ran is reported, as Python's RuntimeWarning
// "coroutine ... was never awaited".
#pragma once

#include <coroutine>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include "pyconc/asyncio/future.hpp"

namespace pyconc::asyncio {

namespace detail {

void report_never_awaited();

// The first resumption of a coroutine is where a cancellation that came before it started
// is raised (Python throws CancelledError into it before its first line).
struct InitialSuspend {
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<>) const noexcept {}
  void await_resume() const {
    raise_pending_cancel();
  }
};

template <class Promise>
struct FinalSuspend {
  bool await_ready() const noexcept { return false; }
  std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> self) const noexcept {
    auto next = self.promise().continuation;
    return next ? next : std::noop_coroutine();
  }
  void await_resume() const noexcept {}
};

struct PromiseBase {
  std::coroutine_handle<> continuation;  // the coroutine awaiting this one, if any
  std::exception_ptr error;
  bool started = false;
  InitialSuspend initial_suspend() noexcept { return {}; }
  void unhandled_exception() noexcept { error = std::current_exception(); }
};

template <class T>
struct Promise : PromiseBase {
  std::optional<T> value;
  template <class U>
  void return_value(U&& v) {
    value.emplace(std::forward<U>(v));
  }
  T take() {
    if (error) std::rethrow_exception(error);
    return std::move(*value);
  }
};
template <>
struct Promise<void> : PromiseBase {
  void return_void() {}
  void take() {
    if (error) std::rethrow_exception(error);
  }
};

}  // namespace detail

template <class T = void>
class [[nodiscard]] Coroutine {
 public:
  struct promise_type : detail::Promise<T> {
    Coroutine get_return_object() { return Coroutine(std::coroutine_handle<promise_type>::from_promise(*this)); }
    detail::FinalSuspend<promise_type> final_suspend() noexcept { return {}; }
  };
  using Handle = std::coroutine_handle<promise_type>;
  using value_type = T;

  Coroutine(Coroutine&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
  Coroutine& operator=(Coroutine&& other) noexcept {
    if (this != &other) {
      destroy();
      handle_ = std::exchange(other.handle_, {});
    }
    return *this;
  }
  ~Coroutine() { destroy(); }

  // `co_await coroutine`: runs it inline, as part of the awaiting task, and gives its result
  // or raises its exception. A second await is Python's RuntimeError "cannot reuse already
  // awaited coroutine".
  auto operator co_await() & { return awaiter(); }
  auto operator co_await() && { return awaiter(); }

  explicit operator bool() const { return static_cast<bool>(handle_); }
  // For tasks: the frame, which the caller now owns.
  Handle release() {
    if (handle_) handle_.promise().started = true;
    return std::exchange(handle_, {});
  }

 private:
  explicit Coroutine(Handle handle) : handle_(handle) {}
  auto awaiter() {
    struct Awaiter {
      Handle handle;
      bool await_ready() const {
        if (!handle || handle.promise().started) throw RuntimeError("cannot reuse already awaited coroutine");
        return false;
      }
      std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiting) noexcept {
        handle.promise().continuation = awaiting;
        handle.promise().started = true;
        return handle;
      }
      T await_resume() { return handle.promise().take(); }
    };
    return Awaiter{handle_};
  }
  void destroy() {
    if (!handle_) return;
    if (!handle_.promise().started) detail::report_never_awaited();
    handle_.destroy();
    handle_ = {};
  }
  Handle handle_;
};

}  // namespace pyconc::asyncio
