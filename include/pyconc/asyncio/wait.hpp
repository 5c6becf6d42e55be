// pyconc::asyncio's waiting helpers: wait_for (a timeout around one awaitable), shield
// (protection from cancellation) and wait (Python's asyncio.wait with return_when).
//
//   int x = co_await asyncio::wait_for(fetch(), 500ms);   // TimeoutError after 500 ms
//   auto [done, pending] = co_await asyncio::wait(tasks, 1s, asyncio::FIRST_COMPLETED);
//   co_await asyncio::shield(task);                       // cancelling us leaves `task` be
//   for (auto& next : asyncio::as_completed(std::move(tasks))) int x = co_await next;
//
// wait_for follows Python 3.11 (WF-01..05): on timeout it cancels the inner task and waits
// until it has finished; if the inner task swallowed the cancellation and returned a value,
// that value is returned; otherwise TimeoutError. A zero timeout does not start a coroutine.
// wait never raises on timeout and never cancels anything (AW-01).
#pragma once

#include <chrono>
#include <optional>
#include <utility>
#include <vector>

#include "pyconc/asyncio/gather.hpp"
#include "pyconc/asyncio/queues.hpp"

namespace pyconc::asyncio {

namespace detail {

// Cancels `future` and waits until it is done (Python's _cancel_and_wait).
Coroutine<void> cancel_and_wait(FutureBase future);
// Waits until `future` is done or `timeout` passes; true when done. Never raises on timeout;
// if the waiting task is cancelled, the CancelledError passes.
Coroutine<bool> wait_done(FutureBase future, std::optional<std::chrono::duration<double>> timeout);

template <class T>
Coroutine<T> wait_for_future(Future<T> future, std::optional<std::chrono::duration<double>> timeout) {
  bool done = false;
  std::exception_ptr cancelled;  // our own cancellation (no co_await inside a handler)
  try {
    done = co_await wait_done(future, timeout);
  } catch (const CancelledError&) {
    cancelled = std::current_exception();
  }
  if (cancelled) {
    if (future.done()) co_return future.result();  // WF-05: the result is already there
    co_await cancel_and_wait(future);
    std::rethrow_exception(cancelled);
  }
  if (done) co_return future.result();
  co_await cancel_and_wait(future);
  try {
    co_return future.result();  // WF-04: it swallowed the cancellation and gave a value
  } catch (const CancelledError&) {
    // cancelled as asked: the timeout below
  }
  throw TimeoutError("wait_for: timed out");
}

}  // namespace detail

// Python's wait_for(aw, timeout): `timeout` none waits for ever (WF-01).
template <class A>
Coroutine<await_result_t<A>> wait_for(A awaitable, std::optional<std::chrono::duration<double>> timeout) {
  using T = await_result_t<A>;
  if constexpr (std::is_same_v<std::decay_t<A>, Coroutine<T>>) {
    if (timeout && timeout->count() <= 0) throw TimeoutError("wait_for: timed out");  // WF-03: never started
  }
  return detail::wait_for_future<T>(ensure_future(std::move(awaitable)), timeout);
}

// Python's shield(aw): the returned future follows aw's outcome, but cancelling it (or the
// task awaiting it) does not cancel aw; cancelling aw cancels it (SHLD-01/02).
template <class A>
Future<await_result_t<A>> shield(A awaitable) {
  using T = await_result_t<A>;
  Future<T> inner = ensure_future(std::move(awaitable));
  if (inner.done()) return inner;
  Future<T> outer(get_running_loop());
  const auto forward = inner.add_done_callback([outer](FutureBase done) {
    if (outer.done()) {
      if (!done.cancelled()) done.exception();  // retrieved: nobody else will
      return;
    }
    detail::copy_outcome<T>(Future<T>(std::static_pointer_cast<detail::FutureState<T>>(done.core_ptr())), outer);
  });
  outer.add_done_callback([inner, forward](FutureBase) {
    if (!inner.done()) inner.remove_done_callback(forward);
  });
  return outer;
}

enum class ReturnWhen { FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED };
inline constexpr ReturnWhen FIRST_COMPLETED = ReturnWhen::FIRST_COMPLETED;
inline constexpr ReturnWhen FIRST_EXCEPTION = ReturnWhen::FIRST_EXCEPTION;
inline constexpr ReturnWhen ALL_COMPLETED = ReturnWhen::ALL_COMPLETED;

namespace detail {
Coroutine<void> wait_until(std::vector<FutureBase> futures, std::optional<std::chrono::duration<double>> timeout,
                           ReturnWhen return_when);
}

// Python's asyncio.wait(fs, timeout, return_when) → (done, pending), each in the order of
// `futures` (Python gives sets). ValueError for an empty list (AW-02); duplicates count once.
template <class F>
  requires std::is_base_of_v<FutureBase, F>
Coroutine<std::pair<std::vector<F>, std::vector<F>>> wait(std::vector<F> futures,
                                                          std::optional<std::chrono::duration<double>> timeout = {},
                                                          ReturnWhen return_when = ALL_COMPLETED) {
  if (futures.empty()) throw ValueError("Set of awaitables is empty.");
  std::vector<F> unique;
  for (auto& f : futures)
    if (std::find(unique.begin(), unique.end(), f) == unique.end()) unique.push_back(f);
  co_await detail::wait_until(std::vector<FutureBase>(unique.begin(), unique.end()), timeout, return_when);
  std::pair<std::vector<F>, std::vector<F>> split;
  for (auto& f : unique) (f.done() ? split.first : split.second).push_back(f);
  co_return split;
}

namespace detail {

// as_completed's shared state: the futures not done yet, and a queue of the done ones (an
// empty slot for each one left when the timeout passed).
template <class T>
struct Completion {
  Queue<std::optional<Future<T>>> done;
  std::vector<std::pair<Future<T>, std::uint64_t>> todo;
  std::optional<TimerHandle> timer;

  void on_completion(const FutureBase& f) {
    const auto it = std::find_if(todo.begin(), todo.end(), [&](const auto& entry) { return entry.first == f; });
    if (it == todo.end()) return;  // the timeout came first
    done.put_nowait(it->first);
    todo.erase(it);
    if (todo.empty() && timer) timer->cancel();
  }
  void on_timeout() {
    for (auto& [future, id] : todo) {
      future.remove_done_callback(id);
      done.put_nowait(std::nullopt);
    }
    todo.clear();
  }
};

template <class T>
Coroutine<T> wait_for_one(std::shared_ptr<Completion<T>> state) {
  std::optional<Future<T>> next = co_await state->done.get();
  if (!next) throw TimeoutError("as_completed: timed out");
  co_return next->result();  // may raise its exception
}

}  // namespace detail

// Python's as_completed(fs, timeout): awaitables in the order the inputs complete — awaiting
// the k-th gives the k-th result to arrive (AAC-01). Past the timeout each one left raises
// TimeoutError, and nothing is cancelled (AAC-02). Duplicates count once.
template <class A>
std::vector<Coroutine<await_result_t<A>>> as_completed(std::vector<A> awaitables,
                                                        std::optional<std::chrono::duration<double>> timeout = {}) {
  using T = await_result_t<A>;
  auto state = std::make_shared<detail::Completion<T>>();
  for (auto& future : detail::futures_of(std::move(awaitables))) {
    const bool seen = std::any_of(state->todo.begin(), state->todo.end(), [&](const auto& e) { return e.first == future; });
    if (!seen) state->todo.emplace_back(future, 0);
  }
  std::weak_ptr<detail::Completion<T>> weak = state;  // the futures must not keep the state alive in a cycle
  for (auto& [future, id] : state->todo)
    id = future.add_done_callback([weak](FutureBase f) {
      if (auto s = weak.lock()) s->on_completion(f);
    });
  if (!state->todo.empty() && timeout)
    state->timer = get_running_loop().call_later(*timeout, [weak] {
      if (auto s = weak.lock()) s->on_timeout();
    });
  std::vector<Coroutine<T>> ordered;
  for (std::size_t i = 0; i < state->todo.size(); ++i) ordered.push_back(detail::wait_for_one(state));
  return ordered;
}

}  // namespace pyconc::asyncio
