// pyconc::asyncio and threads: to_thread, run_in_executor, run_coroutine_threadsafe,
// wrap_future, and awaiting a futures::Future from a coroutine.
//
//   auto text = co_await asyncio::to_thread(read_file, path);        // a blocking call, off the loop
//   auto f = asyncio::run_coroutine_threadsafe(fetch(), loop);       // from another thread
//   int x = f.result();                                              // a futures::Future
//   int y = co_await pool.submit(compute, 3);                        // a futures::Future, awaited
//
// The seeds' pitfall — a blocking call inside a coroutine stops the whole loop — is what
// to_thread is for; debug mode (run(coro, true)) reports a step that blocked too long.
#pragma once

#include <exception>
#include <memory>
#include <type_traits>
#include <utility>

#include "pyconc/asyncio/task.hpp"
#include "pyconc/futures.hpp"

namespace pyconc::asyncio {

namespace detail {
// Queues `callback` on the loop from any thread; false when the loop is closed.
bool call_soon_threadsafe_quietly(LoopCore& loop, pyconc::detail::UniqueFunction<void()> callback);
std::shared_ptr<LoopCore> core_of(EventLoop& loop);
}  // namespace detail

// Python's wrap_future: a Future of `loop` that follows `source` (a concurrent future);
// cancelling it cancels `source` unless that has finished (AFUT-05).
template <class T>
Future<T> wrap_future(futures::Future<T> source, EventLoop& loop = get_running_loop()) {
  Future<T> wrapper(loop);
  auto core = detail::core_of(loop);
  source.add_done_callback([wrapper, core](const futures::Future<T>& done) {
    detail::call_soon_threadsafe_quietly(*core, [wrapper, done] {
      if (!wrapper.done()) detail::copy_outcome<T>(done, wrapper);
    });
  });
  wrapper.add_done_callback([source](FutureBase self) {
    if (self.cancelled()) source.cancel();
  });
  return wrapper;
}

template <class F, class... Args>
auto EventLoop::run_in_executor(futures::Executor* executor, F fn, Args... args) {
  futures::Executor& runner = executor ? *executor : default_executor();
  return wrap_future(runner.submit(std::move(fn), std::move(args)...), *this);
}

// Python's to_thread(fn, *args): fn(args...) in the default executor, awaited.
template <class F, class... Args>
auto to_thread(F fn, Args... args) -> Coroutine<std::invoke_result_t<F&, Args&...>> {
  co_return co_await get_running_loop().run_in_executor(nullptr, std::move(fn), std::move(args)...);
}

// Python's run_coroutine_threadsafe(coro, loop): from another thread, runs the coroutine as
// a task of `loop`; cancelling the returned future cancels the task.
template <class T>
futures::Future<T> run_coroutine_threadsafe(Coroutine<T> coroutine, EventLoop& loop) {
  futures::Future<T> result;
  auto core = detail::core_of(loop);
  auto start = [result, &loop, coroutine = std::move(coroutine)]() mutable {
    if (result.cancelled()) return;
    Task<T> task = create_task(loop, std::move(coroutine));
    result.add_done_callback([task, core = detail::core_of(loop)](const futures::Future<T>& done) {
      if (done.cancelled()) detail::call_soon_threadsafe_quietly(*core, [task] { task.cancel(); });
    });
    task.add_done_callback([result, task](FutureBase) {
      try {
        detail::copy_outcome<T>(task, result);
      } catch (const futures::InvalidStateError&) {
        // Cancelled by its caller meanwhile.
      }
    });
  };
  if (!detail::call_soon_threadsafe_quietly(*core, std::move(start))) throw RuntimeError("Event loop is closed");
  return result;
}

}  // namespace pyconc::asyncio

namespace pyconc::futures {
// `co_await` on a concurrent future inside a coroutine: wrapped for the running loop.
template <class T>
auto operator co_await(const Future<T>& future) {
  return asyncio::wrap_future(future).operator co_await();
}
}  // namespace pyconc::futures
