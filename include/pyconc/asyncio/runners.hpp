// pyconc::asyncio::run — Python's asyncio.run(main): a new event loop runs the coroutine to
// its end, then cancels the tasks still pending and waits for them (RUN-03), then closes.
//
//   asyncio::Coroutine<int> main_coro() { co_await asyncio::sleep(1s); co_return 42; }
//   int main() { return asyncio::run(main_coro()) == 42 ? 0 : 1; }
//
// RuntimeError when a loop already runs in this thread (RUN-02). Ctrl-C cancels the main task
// and raises KeyboardInterrupt (RUN-04). Debug mode (LOOP-18) is on with `debug` or the
// environment variable PYCONC_ASYNCIO_DEBUG=1.
#pragma once

#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include "pyconc/asyncio/task.hpp"

namespace pyconc::asyncio {

namespace detail {
// During run(): Ctrl-C cancels the main task, and run() then raises KeyboardInterrupt
// (RUN-04). Installed only in the main thread, and only over SIGINT's default action.
class InterruptGuard {
 public:
  InterruptGuard(EventLoop& loop, TaskBase main);
  ~InterruptGuard();
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;
  // Turns the main task's CancelledError into KeyboardInterrupt when Ctrl-C caused it.
  [[noreturn]] void raise_cancelled(std::exception_ptr cancelled) const;

 private:
  EventLoop& loop_;
  TaskBase main_;
  bool installed_ = false;
  int interrupts_ = 0;
};
void check_not_running(const char* what);
bool debug_from_environment();
// Python's Runner.close(): cancels what is left, waits for it, reports the errors it raised
// ("unhandled exception during asyncio.run() shutdown"), then closes the loop.
void finish_run(EventLoop& loop);
}  // namespace detail

template <class T>
T run(Coroutine<T> main, bool debug = false) {
  detail::check_not_running("asyncio.run() cannot be called from a running event loop");
  EventLoop loop;
  loop.set_debug(debug || detail::debug_from_environment());
  std::exception_ptr failure;
  std::optional<detail::Stored<T>> result;
  {
    auto task = loop.create_task(std::move(main));
    detail::InterruptGuard interrupt(loop, task);
    try {
      if constexpr (std::is_void_v<T>) {
        loop.run_until_complete(Future<T>(task));
        result.emplace();
      } else {
        result.emplace(loop.run_until_complete(Future<T>(task)));
      }
    } catch (const CancelledError&) {
      try {
        interrupt.raise_cancelled(std::current_exception());
      } catch (...) {
        failure = std::current_exception();
      }
    } catch (...) {
      failure = std::current_exception();
    }
  }
  detail::finish_run(loop);
  if (failure) std::rethrow_exception(failure);
  if constexpr (!std::is_void_v<T>) return std::move(*result);
}

// The same for a lambda coroutine, kept alive while it runs (coroutine.hpp's rule).
template <class F>
  requires std::is_invocable_v<F&>
auto run(F main, bool debug = false) {
  using C = std::invoke_result_t<F&>;
  auto runner = [](F f) -> C { co_return co_await f(); };
  return run(runner(std::move(main)), debug);
}

}  // namespace pyconc::asyncio
