// The loop's default executor (run_in_executor(None, ...), to_thread) and the cross-thread
// hand-offs of threads.hpp.
#include <thread>

#include "loop_core.hpp"
#include "pyconc/asyncio/threads.hpp"

namespace pyconc::asyncio {

namespace detail {

bool call_soon_threadsafe_quietly(LoopCore& loop, pyconc::detail::UniqueFunction<void()> callback) {
  try {
    loop.call_soon_threadsafe(std::move(callback));
    return true;
  } catch (const RuntimeError&) {
    return false;  // the loop is closed: nobody is left to tell
  }
}

std::shared_ptr<LoopCore> core_of(EventLoop& loop) { return loop.core_ptr(); }

}  // namespace detail

futures::Executor& EventLoop::default_executor() {
  core_->check_open();
  if (core_->default_executor_shut_down) throw RuntimeError("Executor shutdown has been called");
  if (!core_->default_executor)
    core_->default_executor = std::make_shared<futures::ThreadPoolExecutor>(
        futures::ThreadPoolOptions{.max_workers = {}, .thread_name_prefix = "asyncio", .initializer = {}});
  return *core_->default_executor;
}

void EventLoop::set_default_executor(std::shared_ptr<futures::ThreadPoolExecutor> executor) {
  if (!executor) throw TypeError("executor must be a ThreadPoolExecutor");
  core_->default_executor = std::move(executor);
}

Coroutine<void> EventLoop::shutdown_default_executor() {
  core_->default_executor_shut_down = true;
  auto executor = std::move(core_->default_executor);
  if (!executor) co_return;
  // The executor's shutdown(wait) blocks: it runs in a thread of its own, the loop going on.
  Future<void> done(*this);
  auto core = core_;
  std::thread([executor, core, done] {
    executor->shutdown(true);
    detail::call_soon_threadsafe_quietly(*core, [done] {
      if (!done.done()) done.set_result();
    });
  }).detach();
  co_await done;
}

}  // namespace pyconc::asyncio
