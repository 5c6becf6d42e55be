// pyconc::asyncio::run — Python's asyncio.run(main): a new event loop runs the coroutine to
// its end, then cancels the tasks still pending and waits for them (RUN-03), then closes.
//
//   asyncio::Coroutine<int> main_coro() { co_await asyncio::sleep(1s); co_return 42; }
//   int main() { return asyncio::run(main_coro()) == 42 ? 0 : 1; }
//
// RuntimeError when a loop already runs in this thread (RUN-02). Debug mode (LOOP-18) is on
// with `debug` or the environment variable PYCONC_ASYNCIO_DEBUG=1.
#pragma once

#include <type_traits>
#include <utility>

#include "pyconc/asyncio/task.hpp"

namespace pyconc::asyncio {

namespace detail {
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
  try {
    if constexpr (std::is_void_v<T>) {
      loop.run_until_complete(std::move(main));
      detail::finish_run(loop);
    } else {
      T result = loop.run_until_complete(std::move(main));
      detail::finish_run(loop);
      return result;
    }
  } catch (...) {
    detail::finish_run(loop);
    throw;
  }
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
