// pyconc::asyncio::gather — Python's asyncio.gather: run awaitables concurrently and give
// their results in argument order (GAT-01), whatever order they finish in.
//
//   auto [a, b] = co_await asyncio::gather(fetch("A"), fetch("B"));         // a tuple
//   std::vector<int> all = co_await asyncio::gather(std::move(tasks));      // a vector
//   auto outcomes = co_await asyncio::gather(asyncio::return_exceptions, std::move(tasks));
//
// Python's rules: without return_exceptions the first exception is raised at once and the
// other children go on running (GAT-02); a cancelled child makes the gather raise
// CancelledError without being cancelled itself (GAT-04). With return_exceptions every child
// is waited for and each outcome is a value or an exception (GAT-03). Cancelling the gather,
// or the task awaiting it, cancels every child (GAT-05). Coroutines become tasks at once;
// futures and tasks are used as they are.
#pragma once

#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "pyconc/asyncio/task.hpp"

namespace pyconc::asyncio {

// Python's ensure_future: a coroutine becomes a task on the running loop; a future stays.
template <class T>
Future<T> ensure_future(Future<T> future) {
  return future;
}
template <class T>
Future<T> ensure_future(Task<T> task) {
  return task;
}
template <class T>
Future<T> ensure_future(Coroutine<T> coroutine) {
  return create_task(std::move(coroutine));
}

template <class A>
using await_result_t = decltype(ensure_future(std::declval<A>()).result());

struct ReturnExceptions {
  explicit constexpr ReturnExceptions() = default;
};
inline constexpr ReturnExceptions return_exceptions{};

// With return_exceptions: a child's value, or the exception it raised (a CancelledError for
// a cancelled child).
template <class T>
using Outcome = std::variant<detail::Stored<T>, std::exception_ptr>;

namespace detail {

// Python's _GatheringFuture: cancelling it cancels the children.
template <class R>
class GatheringState final : public FutureState<R> {
 public:
  GatheringState(std::shared_ptr<LoopCore> loop, std::vector<std::shared_ptr<FutureCore>> children,
                 bool return_exceptions, std::function<R()> collect)
      : FutureState<R>(std::move(loop)),
        children_(std::move(children)),
        return_exceptions_(return_exceptions),
        collect_(std::move(collect)) {}

  bool cancel(const std::string& message) override {
    if (this->done()) return false;
    bool any = false;
    for (auto& child : children_) any = child->cancel(message) || any;
    if (any) cancel_requested_ = true;
    return any;
  }

  void watch(const std::shared_ptr<GatheringState>& self) {
    if (children_.empty()) return this->set_result(collect_());
    for (auto& child : children_) child->add_done_callback([self](FutureCore& done) { self->child_done(done); });
  }

 private:
  void child_done(FutureCore& child) {
    ++finished_;
    if (this->done()) {
      if (!child.cancelled()) child.exception();  // retrieved: nobody else will
      return;
    }
    if (!return_exceptions_) {
      if (child.cancelled()) return this->set_exception(cancelled_error(child));
      if (auto error = child.exception()) return this->set_exception(error);
    }
    if (finished_ < children_.size()) return;
    if (cancel_requested_) return this->set_exception(cancelled_error(child));
    this->set_result(collect_());
  }
  static std::exception_ptr cancelled_error(FutureCore& child) {
    try {
      child.exception();
    } catch (...) {
      return std::current_exception();
    }
    return std::make_exception_ptr(CancelledError());
  }

  std::vector<std::shared_ptr<FutureCore>> children_;
  bool return_exceptions_;
  std::function<R()> collect_;
  std::size_t finished_ = 0;
  bool cancel_requested_ = false;
};

void check_same_loop(const std::vector<std::shared_ptr<FutureCore>>& children);

template <class R>
Future<R> gathering(std::vector<std::shared_ptr<FutureCore>> children, bool return_exceptions,
                    std::function<R()> collect) {
  check_same_loop(children);  // GAT-06
  auto state = std::make_shared<GatheringState<R>>(get_running_loop().core_ptr(), std::move(children),
                                                   return_exceptions, std::move(collect));
  state->watch(state);
  return Future<R>(std::static_pointer_cast<FutureState<R>>(state));
}

template <class T>
Stored<T> stored_result(const Future<T>& future) {
  if constexpr (std::is_void_v<T>) {
    future.result();
    return {};
  } else {
    return future.result();
  }
}

template <class T>
Outcome<T> outcome_of(const Future<T>& future) {
  try {
    return Outcome<T>(std::in_place_index<0>, stored_result(future));
  } catch (...) {
    return Outcome<T>(std::in_place_index<1>, std::current_exception());
  }
}

// The same coroutine given twice runs once (GAT-06) comes for free: a Coroutine can only be
// moved into one task.
template <class A>
std::vector<Future<await_result_t<A>>> futures_of(std::vector<A> awaitables) {
  std::vector<Future<await_result_t<A>>> futures;
  futures.reserve(awaitables.size());
  for (auto& a : awaitables) futures.push_back(ensure_future(std::move(a)));
  return futures;
}

template <class T>
std::vector<std::shared_ptr<FutureCore>> cores_of(const std::vector<Future<T>>& futures) {
  std::vector<std::shared_ptr<FutureCore>> cores;
  for (const auto& f : futures) cores.push_back(f.core_ptr());
  return cores;
}

}  // namespace detail

// gather(vector of tasks, futures or coroutines of one type) → Future<vector<result>>.
template <class A>
auto gather(std::vector<A> awaitables) {
  using T = await_result_t<A>;
  auto futures = detail::futures_of(std::move(awaitables));
  auto cores = detail::cores_of(futures);
  return detail::gathering<std::vector<detail::Stored<T>>>(std::move(cores), false, [futures] {
    std::vector<detail::Stored<T>> results;
    for (const auto& f : futures) results.push_back(detail::stored_result(f));
    return results;
  });
}

template <class A>
auto gather(ReturnExceptions, std::vector<A> awaitables) {
  using T = await_result_t<A>;
  auto futures = detail::futures_of(std::move(awaitables));
  auto cores = detail::cores_of(futures);
  return detail::gathering<std::vector<Outcome<T>>>(std::move(cores), true, [futures] {
    std::vector<Outcome<T>> outcomes;
    for (const auto& f : futures) outcomes.push_back(detail::outcome_of(f));
    return outcomes;
  });
}

// gather(a, b, c) of any types → Future<tuple<results...>> (void gives std::monostate).
template <class... A>
  requires(sizeof...(A) > 0 && (!std::is_same_v<std::decay_t<A>, ReturnExceptions> && ...))
auto gather(A... awaitables) {
  // Braces: the children start in argument order (a function call's arguments have none).
  auto futures = std::tuple<Future<await_result_t<A>>...>{ensure_future(std::move(awaitables))...};
  std::vector<std::shared_ptr<detail::FutureCore>> cores;
  std::apply([&](const auto&... f) { (cores.push_back(f.core_ptr()), ...); }, futures);
  using R = std::tuple<detail::Stored<await_result_t<A>>...>;
  return detail::gathering<R>(std::move(cores), false, [futures] {
    return std::apply([](const auto&... f) { return R(detail::stored_result(f)...); }, futures);
  });
}

template <class... A>
  requires(sizeof...(A) > 0)
auto gather(ReturnExceptions, A... awaitables) {
  // Braces: the children start in argument order (a function call's arguments have none).
  auto futures = std::tuple<Future<await_result_t<A>>...>{ensure_future(std::move(awaitables))...};
  std::vector<std::shared_ptr<detail::FutureCore>> cores;
  std::apply([&](const auto&... f) { (cores.push_back(f.core_ptr()), ...); }, futures);
  using R = std::tuple<Outcome<await_result_t<A>>...>;
  return detail::gathering<R>(std::move(cores), true, [futures] {
    return std::apply([](const auto&... f) { return R(detail::outcome_of(f)...); }, futures);
  });
}

}  // namespace pyconc::asyncio
