// asyncio's Lock, Event, Condition, Semaphore and Barrier, following Python 3.12's
// asyncio/locks.py step by step (its comments explain the cancellation races they close).
#include "pyconc/asyncio/locks.hpp"

#include <algorithm>

#include "loop_core.hpp"

namespace pyconc::asyncio {

namespace detail {

EventLoop& LoopBound::bound_loop() {
  EventLoop& loop = get_running_loop();
  if (!bound_) {
    loop_ = loop.core_ptr();
    bound_ = true;
  }
  if (loop_.lock() != loop.core_ptr()) throw RuntimeError("this primitive is bound to a different event loop");
  return loop;
}

Future<void> Waiters::add(EventLoop& loop) {
  waiters_.emplace_back(loop);
  return waiters_.back();
}

void Waiters::remove(const Future<void>& waiter) {
  const auto it = std::find(waiters_.begin(), waiters_.end(), waiter);
  if (it != waiters_.end()) waiters_.erase(it);
}

bool Waiters::wake_first_pending() {
  for (auto& waiter : waiters_) {
    if (waiter.done()) continue;
    waiter.set_result();
    return true;
  }
  return false;
}

void Waiters::wake_oldest() {
  if (!waiters_.empty() && !waiters_.front().done()) waiters_.front().set_result();
}

void Waiters::wake_all() {
  for (auto& waiter : waiters_)
    if (!waiter.done()) waiter.set_result();
}

bool Waiters::any_not_cancelled() const {
  return std::any_of(waiters_.begin(), waiters_.end(), [](const Future<void>& w) { return !w.cancelled(); });
}

namespace {

// Awaits `waiter`; a CancelledError is handed back instead of raised (a coroutine cannot
// await inside a catch block, and the callers have work to do before it goes on).
Coroutine<std::exception_ptr> await_catching_cancel(Future<void> waiter) {
  try {
    co_await waiter;
  } catch (const CancelledError&) {
    co_return std::current_exception();
  }
  co_return nullptr;
}

}  // namespace

}  // namespace detail

Coroutine<bool> Lock::acquire() {
  if (!locked_ && !waiters_.any_not_cancelled()) {
    locked_ = true;
    co_return true;
  }
  Future<void> waiter = waiters_.add(bound_loop());
  const auto cancelled = co_await detail::await_catching_cancel(waiter);
  waiters_.remove(waiter);
  if (cancelled) {
    if (!locked_) waiters_.wake_oldest();  // a woken waiter that is cancelled passes the lock on
    std::rethrow_exception(cancelled);
  }
  locked_ = true;
  co_return true;
}

void Lock::release() {
  if (!locked_) throw RuntimeError("Lock is not acquired.");
  locked_ = false;
  waiters_.wake_oldest();
}

Coroutine<Held<Lock>> Lock::hold() {
  co_await acquire();
  co_return Held<Lock>(*this);
}

Coroutine<bool> Event::wait() {
  if (set_) co_return true;
  Future<void> waiter = waiters_.add(bound_loop());
  const auto cancelled = co_await detail::await_catching_cancel(waiter);
  waiters_.remove(waiter);
  if (cancelled) std::rethrow_exception(cancelled);
  co_return true;
}

void Event::set() {
  if (set_) return;
  set_ = true;
  waiters_.wake_all();
}

Coroutine<Held<Condition>> Condition::hold() {
  co_await acquire();
  co_return Held<Condition>(*this);
}

Coroutine<bool> Condition::wait() {
  if (!locked()) throw RuntimeError("cannot wait on un-acquired lock");
  EventLoop& loop = bound_loop();  // before releasing: a wrong loop changes nothing
  release();
  Future<void> waiter = waiters_.add(loop);
  std::exception_ptr cancelled = co_await detail::await_catching_cancel(waiter);
  waiters_.remove(waiter);
  // The lock is taken back whatever happens, cancellations included (ACD-03).
  for (;;) {
    try {
      co_await acquire();
      break;
    } catch (const CancelledError&) {
      cancelled = std::current_exception();
    }
  }
  if (cancelled) {
    // Notified, then cancelled: the notification goes to another waiter, not lost.
    if (waiter.done() && !waiter.cancelled()) notify(1);
    std::rethrow_exception(cancelled);
  }
  co_return true;
}

Coroutine<bool> Condition::wait_for(std::function<bool()> predicate) {
  bool result = predicate();
  while (!result) {
    co_await wait();
    result = predicate();
  }
  co_return result;
}

void Condition::notify(std::size_t n) {
  if (!locked()) throw RuntimeError("cannot notify on un-acquired lock");
  for (std::size_t woken = 0; woken < n && waiters_.wake_first_pending(); ++woken) {
  }
}

void Condition::notify_all() { notify(waiters_.size()); }

Semaphore::Semaphore(std::int64_t value) : value_(value) {
  if (value < 0) throw ValueError("Semaphore initial value must be >= 0");
}

bool Semaphore::locked() const { return value_ == 0 || waiters_.any_not_cancelled(); }

bool Semaphore::wake_up_next() {
  if (waiters_.empty()) return false;
  // The unit is given to the oldest waiter now, so nobody can take it in between (FIFO).
  const bool woke = waiters_.wake_first_pending();
  if (woke) --value_;
  return woke;
}

Coroutine<bool> Semaphore::acquire() {
  if (!locked()) {
    --value_;
    co_return true;
  }
  Future<void> waiter = waiters_.add(bound_loop());
  const auto cancelled = co_await detail::await_catching_cancel(waiter);
  waiters_.remove(waiter);
  if (cancelled && waiter.done() && !waiter.cancelled()) ++value_;  // woken, then cancelled: give it back
  // New waiters may have queued behind us: wake as many as the units allow.
  while (value_ > 0 && wake_up_next()) {
  }
  if (cancelled) std::rethrow_exception(cancelled);
  co_return true;
}

void Semaphore::release() {
  ++value_;
  wake_up_next();
}

Coroutine<Held<Semaphore>> Semaphore::hold() {
  co_await acquire();
  co_return Held<Semaphore>(*this);
}

void BoundedSemaphore::release() {
  if (value_ >= bound_) throw ValueError("BoundedSemaphore released too many times");
  Semaphore::release();
}

Barrier::Barrier(std::int64_t parties) : parties_(parties) {
  if (parties < 1) throw ValueError("parties must be > 0");
}

Coroutine<std::int64_t> Barrier::wait() {
  auto held = co_await condition_.hold();
  // Block while the barrier drains or resets.
  co_await condition_.wait_for([this] { return state_ != State::draining && state_ != State::resetting; });
  if (state_ == State::broken) throw BrokenBarrierError("Barrier aborted");
  std::exception_ptr failure;
  std::int64_t index = 0;
  try {
    index = co_await pass();
  } catch (...) {
    failure = std::current_exception();
  }
  --count_;  // a cancelled waiter leaves without breaking the barrier (ABAR-03)
  leave();
  if (failure) std::rethrow_exception(failure);
  co_return index;
}

Coroutine<std::int64_t> Barrier::pass() {
  const std::int64_t index = count_++;
  if (index + 1 == parties_) {
    state_ = State::draining;
    condition_.notify_all();
  } else {
    co_await condition_.wait_for([this] { return state_ != State::filling; });
    if (state_ == State::broken || state_ == State::resetting)
      throw BrokenBarrierError("Abort or reset of barrier");
  }
  co_return index;
}

void Barrier::leave() {
  if (count_ != 0) return;
  if (state_ == State::resetting || state_ == State::draining) state_ = State::filling;
  condition_.notify_all();
}

Coroutine<void> Barrier::reset() {
  auto held = co_await condition_.hold();
  state_ = count_ > 0 ? State::resetting : State::filling;
  condition_.notify_all();
}

Coroutine<void> Barrier::abort() {
  auto held = co_await condition_.hold();
  state_ = State::broken;
  condition_.notify_all();
}

}  // namespace pyconc::asyncio
