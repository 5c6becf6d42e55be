// pyconc::futures::Executor — Python's concurrent.futures.Executor.
//
// submit(fn, args...) schedules fn(args...) and returns a Future of its result. map(fn,
// ranges..., [timeout]) submits every call at once (zipping the ranges, as Python's zip
// does) and yields results lazily in input order, rethrowing a call's exception at its
// position; the timeout runs from the map() call, and results not yet yielded when the
// iteration stops are cancelled. submit after shutdown() throws RuntimeError. Executors
// own their work: the destructor of a concrete executor does shutdown(wait = true), like
// leaving a `with` block.
//
//   pyconc::futures::ThreadPoolExecutor pool(5);
//   auto f = pool.submit([](int x) { return x * 10; }, 4);     // f.result() == 40
//   for (int r : pool.map(fake_io, std::vector{0, 1, 2, 3, 4})) std::printf("%d\n", r);
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "pyconc/detail/function_ref.hpp"
#include "pyconc/detail/next_iterator.hpp"
#include "pyconc/detail/unique_function.hpp"
#include "pyconc/futures/future.hpp"
#include "pyconc/futures/task_memory.hpp"

namespace pyconc::futures {

namespace detail {

// A unit of work: a future plus the call that completes it.
class Task {
 public:
  virtual ~Task() = default;
  // Runs the call unless the future was cancelled first; stores the result or exception
  // (any exception, SystemExit included) and drops the callable and its arguments.
  // before_publishing runs just before the outcome becomes visible: a pool worker counts
  // itself idle there, so a caller that sees the result and submits again reuses it.
  virtual void run(pyconc::detail::FunctionRef<void()> before_publishing) = 0;
  void run() {
    run([] {});
  }
  virtual FutureStateBase& future() = 0;
};

// The future's state and the call in one allocation.
template <class R, class Call>
class TaskImpl final : public FutureState<R>, public Task {
 public:
  explicit TaskImpl(Call call) : call_(std::move(call)) {}
  using Task::run;
  void run(pyconc::detail::FunctionRef<void()> before_publishing) override {
    if (!this->set_running_or_notify_cancel()) {
      call_.reset();
      before_publishing();
      return;
    }
    try {
      if constexpr (std::is_void_v<R>) {
        (*call_)();
        call_.reset();
        before_publishing();
        publish([&] { this->set_result(); });
      } else {
        R value = (*call_)();
        call_.reset();
        before_publishing();
        publish([&] { this->set_result(std::move(value)); });
      }
    } catch (...) {
      call_.reset();
      before_publishing();
      publish([&] { this->set_exception(std::current_exception()); });
    }
  }
  FutureStateBase& future() override { return *this; }

 private:
  // Someone else may have completed the future meanwhile (set_result on an executor's
  // future is allowed, as in Python); the first outcome stands and the worker goes on.
  template <class Store>
  static void publish(Store store) {
    try {
      store();
    } catch (const InvalidStateError&) {
    }
  }
  std::optional<Call> call_;
};

template <class T>
struct is_timeout_argument
    : std::bool_constant<std::is_same_v<T, Forever> || std::is_same_v<T, Timeout>> {};
template <class Rep, class Period>
struct is_timeout_argument<std::chrono::duration<Rep, Period>> : std::true_type {};

}  // namespace detail

// What map() returns: iterate it once, in input order.
template <class R>
class MapResult {
 public:
  MapResult(std::vector<Future<R>> futures, Deadline deadline)
      : futures_(std::move(futures)), deadline_(deadline) {}
  MapResult(MapResult&&) = default;
  MapResult& operator=(MapResult&&) = default;
  // Like Python's generator being closed: calls not yet yielded are cancelled.
  ~MapResult() { cancel_rest(); }

  // The next result, or nothing at the end. Throws the call's exception, or TimeoutError.
  std::optional<R> next() {
    if (next_ >= futures_.size()) return std::nullopt;
    Future<R> f = futures_[next_++];
    try {
      return std::move(deadline_.is_never() ? f.result() : f.result(deadline_.remaining()));
    } catch (...) {
      f.cancel();
      cancel_rest();
      throw;
    }
  }

  using iterator = pyconc::detail::NextIterator<MapResult, R>;
  iterator begin() { return iterator(this); }
  iterator end() { return iterator(); }

  // Collects every result (Python's list(ex.map(...))).
  std::vector<R> to_vector() {
    std::vector<R> out;
    while (auto r = next()) out.push_back(std::move(*r));
    return out;
  }

 private:
  void cancel_rest() {
    for (std::size_t i = next_; i < futures_.size(); ++i) futures_[i].cancel();
    next_ = futures_.size();
  }
  std::vector<Future<R>> futures_;
  std::size_t next_ = 0;
  Deadline deadline_;
};

class Executor {
 public:
  Executor() = default;
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;
  virtual ~Executor() = default;

  template <class F, class... Args>
    requires std::is_invocable_v<std::decay_t<F>&, std::decay_t<Args>...>
  auto submit(F&& fn, Args&&... args) {
    using R = std::invoke_result_t<std::decay_t<F>&, std::decay_t<Args>...>;
    auto call = pyconc::detail::bind_call(std::forward<F>(fn), std::forward<Args>(args)...);
    using Impl = detail::TaskImpl<R, decltype(call)>;
    auto task = std::allocate_shared<Impl>(detail::TaskAllocator<Impl>{}, std::move(call));
    Future<R> future(std::static_pointer_cast<detail::FutureState<R>>(task));
    submit_task(std::move(task));
    return future;
  }

  // map(fn, range1, range2, ..., [timeout]).
  template <class F, class... Args>
  auto map(F fn, Args&&... args) {
    if constexpr (sizeof...(Args) > 0 &&
                  detail::is_timeout_argument<std::decay_t<decltype(std::get<sizeof...(Args) - 1>(
                      std::declval<std::tuple<Args&...>>()))>>::value) {
      auto all = std::forward_as_tuple(args...);
      const Timeout timeout = std::get<sizeof...(Args) - 1>(all);
      return map_ranges(timeout.deadline(), fn, all,
                        std::make_index_sequence<sizeof...(Args) - 1>());
    } else {
      auto all = std::forward_as_tuple(args...);
      return map_ranges(Deadline::never(), fn, all, std::make_index_sequence<sizeof...(Args)>());
    }
  }

  virtual void shutdown(bool wait = true, bool cancel_futures = false) = 0;

 protected:
  // Queues a task; throws RuntimeError after shutdown (or the executor's own error).
  virtual void submit_task(std::shared_ptr<detail::Task> task) = 0;

 private:
  template <class F, class Tuple, std::size_t... I>
  auto map_ranges(Deadline deadline, F& fn, Tuple& ranges, std::index_sequence<I...>) {
    static_assert(sizeof...(I) > 0, "map() needs at least one range");
    using R = std::invoke_result_t<F&, decltype(*std::begin(std::get<I>(ranges)))...>;
    static_assert(!std::is_void_v<R>, "map() collects results: use submit() for void functions");
    std::vector<Future<R>> futures;
    auto its = std::make_tuple(std::begin(std::get<I>(ranges))...);
    auto ends = std::make_tuple(std::end(std::get<I>(ranges))...);
    while (((std::get<I>(its) != std::get<I>(ends)) && ...)) {  // zip: stop at the shortest
      futures.push_back(submit(fn, *std::get<I>(its)...));
      (++std::get<I>(its), ...);
    }
    return MapResult<R>(std::move(futures), deadline);
  }
};

}  // namespace pyconc::futures
