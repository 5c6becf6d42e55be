// pyconc::futures::ProcessPoolExecutor — Python's concurrent.futures.ProcessPoolExecutor.
//
// A futures::Executor whose calls run in worker processes, so wait(), as_completed() and
// Future work on its futures as on a thread pool's. submit(fn, args...) takes a plain
// function whose parameters and result cross processes (checked at compile time; Python
// pickles them at run time); arguments whose pickling fails at run time fail that future
// with PicklingError and the pool goes on (PPE-06). A worker that dies abruptly breaks the
// pool: every running and pending future fails with BrokenProcessPool, and so does every
// later submit (PPE-02); so does an initializer that raises (EXE-09). Workers start on
// demand and idle ones are reused, except under fork, where all start at once (PPE-09).
// max_tasks_per_child replaces a worker after that many calls (PPE-10).
//
// It lives with multiprocessing (it is built on its processes); its name is futures'.
// map(fn, range, timeout, chunksize) takes one range. Submitting through an `Executor&`
// (whose submit accepts any callable) fails the future with PicklingError.
//
//   long long sum_squares(long long n) { ... }
//   int main() {
//     pyconc::multiprocessing::freeze_support();
//     pyconc::futures::ProcessPoolExecutor pool;
//     auto f = pool.submit(sum_squares, 10'000'000LL);   // f.result() in the parent
//   }
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "pyconc/futures/errors.hpp"
#include "pyconc/futures/executor.hpp"
#include "pyconc/multiprocessing/context.hpp"
#include "pyconc/multiprocessing/pool_task.hpp"
#include "pyconc/multiprocessing/worker_pool.hpp"

namespace pyconc::futures {

struct ProcessPoolOptions {
  // Python's mp_context: the workers' start method (the default context's otherwise, and
  // spawn when max_tasks_per_child is given, as in Python).
  std::optional<multiprocessing::Context> mp_context;
  multiprocessing::Initializer initializer;
  std::optional<std::int64_t> max_tasks_per_child;
};

namespace detail {

// Python pickles a result in the worker and reports a failure as PicklingError (PPE-06).
std::exception_ptr as_executor_error(std::exception_ptr error);

// Completes futures [first, first + count) of one call or chunk.
template <class R>
class ProcessCallSink : public multiprocessing::detail::CallSink {
 public:
  ProcessCallSink(std::vector<Future<R>> futures, bool chunk) : futures_(std::move(futures)), chunk_(chunk) {}
  bool begin() override {
    bool any = false;
    for (auto& f : futures_) any |= f.set_running_or_notify_cancel();
    return any;
  }
  bool finish(multiprocessing::detail::Outcome outcome) override {
    if (outcome.error) {
      fail_all(as_executor_error(outcome.error));
      return true;
    }
    try {
      if (chunk_) {
        auto values = pickle::loads<std::vector<R>>(*outcome.result);
        for (std::size_t i = 0; i < futures_.size() && i < values.size(); ++i) settle(futures_[i], std::move(values[i]));
      } else if constexpr (std::is_void_v<R>) {
        settle(futures_.front());
      } else {
        settle(futures_.front(), pickle::loads<R>(*outcome.result));
      }
    } catch (...) {
      return false;  // cannot be unpickled: the pool breaks, then fails this call with the rest
    }
    return true;
  }
  void cancel() override {
    for (auto& f : futures_) f.cancel();
  }

 private:
  // A future cancelled before its chunk ran keeps its cancellation.
  template <class... V>
  static void settle(Future<R>& f, V&&... value) {
    try {
      f.set_result(std::forward<V>(value)...);
    } catch (const InvalidStateError&) {
    }
  }
  void fail_all(const std::exception_ptr& error) {
    for (auto& f : futures_) {
      try {
        f.set_exception(error);
      } catch (const InvalidStateError&) {
      }
    }
  }
  std::vector<Future<R>> futures_;
  bool chunk_;
};

}  // namespace detail

class ProcessPoolExecutor : public Executor {
 public:
  // max_workers: os::process_cpu_count() by default; 0 or less is a ValueError.
  explicit ProcessPoolExecutor(std::optional<long> max_workers = std::nullopt, ProcessPoolOptions options = {});
  ~ProcessPoolExecutor() override;  // shutdown(wait = true), like leaving `with`

  template <class F, class... Args>
  Future<multiprocessing::detail::pool_result_t<F>> submit(F fn, Args&&... args) {
    static_assert(multiprocessing::detail::pool_callable<F, Args...>(), PYCONC_POOL_CALLABLE_MESSAGE);
    using R = multiprocessing::detail::pool_result_t<F>;
    Future<R> future;
    multiprocessing::detail::TaskCall call;
    try {
      call = multiprocessing::detail::make_call(fn, std::forward<Args>(args)...);
    } catch (const pickle::PicklingError&) {
      check_accepting();
      future.set_exception(std::current_exception());
      return future;
    }
    try {
      send(call, std::make_shared<detail::ProcessCallSink<R>>(std::vector<Future<R>>{future}, false));
    } catch (...) {
      if (future.done()) (void)future.exception();  // raised here instead: not "never retrieved"
      throw;
    }
    return future;
  }

  // Python's map(fn, iterable, timeout=None, chunksize=1): every call submitted at once,
  // results yielded lazily in order; calls travel `chunksize` at a time (PPE-08).
  template <class F, class Range>
  MapResult<multiprocessing::detail::pool_result_t<F>> map(F fn, const Range& iterable, Timeout timeout = forever,
                                                           std::size_t chunksize = 1) {
    using P = multiprocessing::detail::PoolFunction<std::decay_t<F>>;
    static_assert(P::value && P::crosses, PYCONC_POOL_CALLABLE_MESSAGE);
    using R = typename P::Result;
    static_assert(!std::is_void_v<R>, "map() collects results: use submit() for void functions");
    const Deadline deadline = timeout.deadline();
    if (chunksize < 1) throw ValueError("chunksize must be >= 1.");
    std::vector<Future<R>> all;
    std::vector<typename P::Arguments> chunk;
    auto flush = [&] {
      std::vector<Future<R>> futures(chunk.size());
      all.insert(all.end(), futures.begin(), futures.end());
      send(multiprocessing::detail::make_chunk_call(fn, chunk),
           std::make_shared<detail::ProcessCallSink<R>>(std::move(futures), true));
      chunk.clear();
    };
    for (const auto& item : iterable) {
      chunk.emplace_back(item);
      if (chunk.size() == chunksize) flush();
    }
    if (!chunk.empty()) flush();
    return MapResult<R>(std::move(all), deadline);
  }

  void shutdown(bool wait = true, bool cancel_futures = false) override;
  // The live workers' pids.
  std::vector<pid_t> worker_pids() const { return workers_.worker_pids(); }

 protected:
  // Reached only through Executor& (any callable): a closure cannot cross to a process.
  void submit_task(std::shared_ptr<detail::Task> task) override;

 private:
  void check_accepting() const;
  void send(const multiprocessing::detail::TaskCall& call, std::shared_ptr<multiprocessing::detail::CallSink> sink);
  multiprocessing::detail::WorkerPool workers_;
};

}  // namespace pyconc::futures
