// pyconc::asyncio::timeout / timeout_at — Python 3.11's `async with asyncio.timeout(d):`.
//
//   int x = co_await asyncio::timeout(500ms, [&]() -> asyncio::Coroutine<int> { co_return co_await fetch(); });
//   co_await asyncio::timeout(std::nullopt, [&](asyncio::Timeout& cm) -> asyncio::Coroutine<void> {
//     cm.reschedule(asyncio::get_running_loop().time() + 1);   // move the deadline
//     co_await work();
//   });
//
// When the deadline passes while the block awaits, the task is cancelled; the block sees
// CancelledError, and leaving it turns that into TimeoutError (TMO-01), `expired()` then
// true. Only this timeout's own cancellation becomes a TimeoutError: a cancel from outside
// stays a CancelledError (TMO-06), and nested timeouts each handle their own (TMO-04).
#pragma once

#include <chrono>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include "pyconc/asyncio/task.hpp"

namespace pyconc::asyncio {

class Timeout {
 public:
  explicit Timeout(std::optional<double> when) : when_(when) {}
  Timeout(const Timeout&) = delete;
  Timeout& operator=(const Timeout&) = delete;

  // The deadline on the loop's clock; none: no deadline.
  std::optional<double> when() const { return when_; }
  // Moves or removes the deadline; RuntimeError unless the block is running (TMO-07).
  void reschedule(std::optional<double> when);
  bool expired() const { return state_ == State::expiring || state_ == State::expired; }

  // Runs `body` (taking this Timeout, or nothing) as the `async with` block.
  template <class F>
  auto run(F body);

 private:
  enum class State { created, entered, expiring, expired, exited };
  void enter();
  // Leaves the block that ended with `error` (or none); raises what should go on.
  void exit(std::exception_ptr error);
  void on_timeout();

  std::optional<double> when_;
  State state_ = State::created;
  std::optional<TaskBase> task_;
  int cancelling_ = 0;
  std::optional<Handle> handle_;
};

template <class F>
auto Timeout::run(F body) {
  constexpr bool takes_timeout = std::is_invocable_v<F&, Timeout&>;
  using C = std::conditional_t<takes_timeout, std::invoke_result<F&, Timeout&>, std::invoke_result<F&>>;
  using R = typename C::type::value_type;
  return [](Timeout& self, F body) -> Coroutine<R> {
    self.enter();
    std::exception_ptr error;
    std::optional<detail::Stored<R>> result;
    try {
      if constexpr (std::is_void_v<R>) {
        if constexpr (takes_timeout) co_await body(self); else co_await body();
        result.emplace();
      } else {
        if constexpr (takes_timeout) result.emplace(co_await body(self)); else result.emplace(co_await body());
      }
    } catch (...) {
      error = std::current_exception();
    }
    self.exit(error);
    if constexpr (!std::is_void_v<R>) co_return std::move(*result);
  }(*this, std::move(body));
}

// Python's timeout(delay) and timeout_at(when): none disables the deadline.
template <class F>
auto timeout_at(std::optional<double> when, F body) -> decltype(std::declval<Timeout&>().run(std::move(body))) {
  Timeout cm(when);
  co_return co_await cm.run(std::move(body));
}
template <class F>
auto timeout(std::optional<std::chrono::duration<double>> delay, F body) {
  std::optional<double> when;
  if (delay) when = get_running_loop().time() + delay->count();
  return timeout_at(when, std::move(body));
}

}  // namespace pyconc::asyncio
