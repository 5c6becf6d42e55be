// The waiting helpers' shared parts: waiting for a future with a timeout, cancelling and
// waiting, and asyncio.wait's condition.
#include "pyconc/asyncio/wait.hpp"

namespace pyconc::asyncio::detail {

void check_same_loop(const std::vector<std::shared_ptr<FutureCore>>& children) {
  LoopCore* running = &get_running_loop().core();
  for (const auto& child : children)
    if (&child->loop() != running) throw ValueError("The future belongs to a different loop than the running one");
}

namespace {

// A future to wake the waiting coroutine; fired at most once.
struct Waiter {
  Future<void> signal;
  void fire() const {
    if (!signal.done()) signal.set_result();
  }
};

}  // namespace

Coroutine<bool> wait_done(FutureBase future, std::optional<std::chrono::duration<double>> timeout) {
  std::vector<FutureBase> one;  // named: GCC 12 cannot keep a braced list across co_await
  one.push_back(future);
  co_await wait_until(std::move(one), timeout, ReturnWhen::FIRST_COMPLETED);
  co_return future.done();
}

Coroutine<void> cancel_and_wait(FutureBase future) {
  EventLoop& loop = get_running_loop();
  const Waiter waiter{Future<void>(loop)};
  const auto id = future.add_done_callback([waiter](FutureBase) { waiter.fire(); });
  future.cancel();
  try {
    co_await waiter.signal;
  } catch (...) {
    future.remove_done_callback(id);
    throw;
  }
}

namespace {

bool satisfied(const std::vector<FutureBase>& futures, ReturnWhen return_when) {
  std::size_t done = 0;
  for (const auto& f : futures) {
    if (!f.done()) continue;
    ++done;
    if (return_when == ReturnWhen::FIRST_COMPLETED) return true;
    if (return_when == ReturnWhen::FIRST_EXCEPTION && !f.cancelled() && f.exception()) return true;
  }
  return done == futures.size();
}

}  // namespace

Coroutine<void> wait_until(std::vector<FutureBase> futures, std::optional<std::chrono::duration<double>> timeout,
                           ReturnWhen return_when) {
  if (satisfied(futures, return_when) || (timeout && timeout->count() <= 0)) co_return;
  EventLoop& loop = get_running_loop();
  const Waiter waiter{Future<void>(loop)};
  std::optional<TimerHandle> timer;
  if (timeout) timer = loop.call_later(*timeout, [waiter] { waiter.fire(); });
  // Shared with the callbacks: one already scheduled may run after this coroutine is gone.
  auto watched = std::make_shared<const std::vector<FutureBase>>(futures);
  std::vector<std::uint64_t> ids;
  for (auto& f : futures)
    ids.push_back(f.add_done_callback([waiter, watched, return_when](FutureBase) {
      if (satisfied(*watched, return_when)) waiter.fire();
    }));
  std::exception_ptr failure;
  try {
    co_await waiter.signal;
  } catch (...) {
    failure = std::current_exception();
  }
  if (timer) timer->cancel();
  for (std::size_t i = 0; i < futures.size(); ++i) futures[i].remove_done_callback(ids[i]);
  if (failure) std::rethrow_exception(failure);
}

}  // namespace pyconc::asyncio::detail
