// pyconc::multiprocessing::Pool — Python's multiprocessing.Pool, and AsyncResult.
//
// A pool of worker processes that run plain functions on arguments that cross processes
// (checked at compile time; Python pickles every task too, whatever the start method):
// apply, apply_async (callback, error_callback), map / starmap (chunksize), map_async,
// imap / imap_unordered, close, terminate, join. Callbacks run on the pool's result-handler
// thread, as in Python; get() returns after them. AsyncResult::get(timeout) raises
// multiprocessing::TimeoutError, which is not pyconc::TimeoutError (POOL-01).
//
// Beyond Python, where a killed worker's task is lost and get() hangs forever (POOL-13,
// gh-66587): the worker is replaced and its task fails with WorkerLostError naming the
// signal ("Worker exited prematurely: signal 9 (SIGKILL) Job: 3.", Celery billiard's
// words). An initializer that raises is reported once and breaks the pool — every task
// fails with futures::BrokenProcessPool — where Python respawns workers forever (POOL-14).
// terminate() fails the unfinished tasks with ProcessError instead of leaving them pending
// forever (POOL-16).
//
// Like leaving `with Pool() as p:`, the destructor calls terminate() (POOL-08): close() and
// join() first to let queued work finish.
//
//   int square(int x) { return x * x; }
//   int main() {
//     pyconc::multiprocessing::freeze_support();
//     pyconc::multiprocessing::Pool pool(4);
//     std::vector<int> squares = pool.map(square, std::vector{1, 2, 3, 4});  // 1 4 9 16
//   }
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <exception>
#include <functional>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "pyconc/detail/next_iterator.hpp"
#include "pyconc/futures/errors.hpp"
#include "pyconc/futures/future.hpp"
#include "pyconc/futures/wait.hpp"
#include "pyconc/multiprocessing/context.hpp"
#include "pyconc/multiprocessing/errors.hpp"
#include "pyconc/multiprocessing/pool_task.hpp"
#include "pyconc/multiprocessing/worker_pool.hpp"
#include "pyconc/queue/simple_queue.hpp"

namespace pyconc::multiprocessing {

// Python's callback= and error_callback= (both optional). The callback gets the result (the
// list of results for map_async); the error callback the exception.
template <class R>
struct Callbacks {
  std::function<void(const R&)> callback;
  std::function<void(std::exception_ptr)> error_callback;
};
template <>
struct Callbacks<void> {
  std::function<void()> callback;
  std::function<void(std::exception_ptr)> error_callback;
};

// Python's AsyncResult (ApplyResult / MapResult): a handle, copies share the outcome.
template <class R>
class AsyncResult {
 public:
  explicit AsyncResult(futures::Future<R> future) : future_(std::move(future)) {}

  // The result, or the task's exception; multiprocessing::TimeoutError if not ready by then.
  std::add_lvalue_reference_t<R> get(Timeout timeout = forever) const {
    if (!wait(timeout)) throw TimeoutError();
    return future_.result();
  }
  // True when the result is ready (Python's wait() returns None; ready() says the same).
  bool wait(Timeout timeout = forever) const {
    if (future_.done()) return true;
    return !futures::wait(std::vector<futures::Future<R>>{future_}, timeout).done.empty();
  }
  bool ready() const { return future_.done(); }
  // Whether the task ended without an exception; ValueError before it is ready (POOL-09).
  bool successful() const {
    if (!ready()) throw ValueError("AsyncResult is not ready");
    return future_.exception() == nullptr;
  }

 private:
  futures::Future<R> future_;
};

template <class T>
class IMapIterator;

namespace detail {

// Completes a future (and runs the callbacks) from a pool call's outcome.
template <class R>
class ResultSink : public CallSink {
 public:
  ResultSink(futures::Future<R> future, Callbacks<R> callbacks)
      : future_(std::move(future)), callbacks_(std::move(callbacks)) {}
  bool finish(Outcome outcome) override {
    std::exception_ptr error = outcome.error;
    std::optional<std::conditional_t<std::is_void_v<R>, bool, R>> value;
    if (!error) {
      try {
        if constexpr (std::is_void_v<R>) {
          value = true;
        } else {
          value = pickle::loads<R>(*outcome.result);
        }
      } catch (...) {
        error = std::current_exception();
      }
    }
    // Python calls the callback, then makes the result ready.
    if (error) {
      if (callbacks_.error_callback) callbacks_.error_callback(error);
      future_.set_exception(error);
    } else if constexpr (std::is_void_v<R>) {
      if (callbacks_.callback) callbacks_.callback();
      future_.set_result();
    } else {
      if (callbacks_.callback) callbacks_.callback(*value);
      future_.set_result(std::move(*value));
    }
    return true;
  }

 private:
  futures::Future<R> future_;
  Callbacks<R> callbacks_;
};

// map_async's chunks, gathered into one list: ready when every chunk is, or at the first
// failure (Python's MapResult).
template <class T>
class MapGather {
 public:
  MapGather(std::size_t items, std::size_t chunks, Callbacks<std::vector<T>> callbacks)
      : chunks_(chunks), remaining_(chunks), callbacks_(std::move(callbacks)) {
    results_.reserve(items);
    if (chunks == 0) complete();
  }
  futures::Future<std::vector<T>> future() const { return future_; }

  void chunk_done(std::size_t index, std::vector<T> values) {
    std::unique_lock hold(lock_);
    if (failed_) return;
    chunks_[index] = std::move(values);
    if (--remaining_ == 0) {
      hold.unlock();
      complete();
    }
  }
  void chunk_failed(std::exception_ptr error) {
    {
      std::scoped_lock hold(lock_);
      if (failed_) return;
      failed_ = true;
    }
    if (callbacks_.error_callback) callbacks_.error_callback(error);
    future_.set_exception(error);
  }

 private:
  void complete() {
    for (auto& chunk : chunks_) std::move(chunk.begin(), chunk.end(), std::back_inserter(results_));
    chunks_.clear();
    if (callbacks_.callback) callbacks_.callback(results_);
    future_.set_result(std::move(results_));
  }
  std::mutex lock_;
  std::vector<std::vector<T>> chunks_;
  std::size_t remaining_;
  bool failed_ = false;
  std::vector<T> results_;
  Callbacks<std::vector<T>> callbacks_;
  futures::Future<std::vector<T>> future_;
};

template <class T>
class MapChunkSink : public CallSink {
 public:
  MapChunkSink(std::shared_ptr<MapGather<T>> gather, std::size_t index) : gather_(std::move(gather)), index_(index) {}
  bool finish(Outcome outcome) override {
    if (outcome.error) {
      gather_->chunk_failed(outcome.error);
      return true;
    }
    try {
      gather_->chunk_done(index_, pickle::loads<std::vector<T>>(*outcome.result));
    } catch (...) {
      gather_->chunk_failed(std::current_exception());
    }
    return true;
  }

 private:
  std::shared_ptr<MapGather<T>> gather_;
  std::size_t index_;
};

// Python's default chunksize for map: four chunks per worker.
inline std::size_t default_chunksize(std::size_t items, std::size_t processes) {
  if (items == 0) return 1;
  const std::size_t chunks = 4 * processes;
  return (items + chunks - 1) / chunks;
}

}  // namespace detail

struct PoolOptions {
  Initializer initializer;
  // Python's maxtasksperchild: a worker is replaced after this many tasks.
  std::optional<std::int64_t> maxtasksperchild;
  // The start method of the workers; the default context's otherwise.
  std::optional<Context> context;
};

class Pool {
 public:
  // processes: os::process_cpu_count() by default; 0 or less is a ValueError (POOL-07).
  explicit Pool(std::optional<long> processes = std::nullopt, PoolOptions options = {});
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  template <class F, class... Args>
  detail::pool_result_t<F> apply(F f, Args&&... args) {
    auto result = apply_async(f, std::forward<Args>(args)...);
    if constexpr (std::is_void_v<detail::pool_result_t<F>>) {
      result.get();
    } else {
      return std::move(result.get());
    }
  }

  template <class F, class... Args>
  AsyncResult<detail::pool_result_t<F>> apply_async(F f, Args&&... args) {
    return apply_async({}, f, std::forward<Args>(args)...);
  }
  template <class F, class... Args>
  AsyncResult<detail::pool_result_t<F>> apply_async(Callbacks<detail::pool_result_t<F>> callbacks, F f,
                                                    Args&&... args) {
    static_assert(detail::pool_callable<F, Args...>(), PYCONC_POOL_CALLABLE_MESSAGE);
    using R = detail::pool_result_t<F>;
    check_running();
    const detail::TaskCall call = detail::make_call(f, std::forward<Args>(args)...);
    futures::Future<R> future;
    submit(call, std::make_shared<detail::ResultSink<R>>(future, std::move(callbacks)));
    return AsyncResult<R>(future);
  }

  // Python's map(func, iterable, chunksize): results in input order (POOL-02).
  template <class F, class Range>
  auto map(F f, const Range& iterable, std::optional<std::size_t> chunksize = std::nullopt) {
    auto results = map_async(f, iterable, chunksize);
    return std::move(results.get());
  }
  template <class F, class Range>
  auto starmap(F f, const Range& iterable, std::optional<std::size_t> chunksize = std::nullopt) {
    auto results = starmap_async(f, iterable, chunksize);
    return std::move(results.get());
  }
  template <class F, class Range>
  auto map_async(F f, const Range& iterable, std::optional<std::size_t> chunksize = std::nullopt,
                 Callbacks<std::vector<detail::pool_result_t<F>>> callbacks = {}) {
    return map_chunks(f, iterable, chunksize, std::move(callbacks), /*star=*/false);
  }
  template <class F, class Range>
  auto starmap_async(F f, const Range& iterable, std::optional<std::size_t> chunksize = std::nullopt,
                     Callbacks<std::vector<detail::pool_result_t<F>>> callbacks = {}) {
    return map_chunks(f, iterable, chunksize, std::move(callbacks), /*star=*/true);
  }

  // Python's imap / imap_unordered: an iterator over the results, in input order or as they
  // come; chunksize 1 by default.
  template <class F, class Range>
  IMapIterator<detail::pool_result_t<F>> imap(F f, const Range& iterable, std::size_t chunksize = 1);
  template <class F, class Range>
  IMapIterator<detail::pool_result_t<F>> imap_unordered(F f, const Range& iterable, std::size_t chunksize = 1);

  // No more tasks; the workers exit once the queued ones are done.
  void close();
  // Stops the workers at once; unfinished tasks fail with ProcessError.
  void terminate();
  // Waits for the workers to exit; ValueError unless close() or terminate() came first.
  void join();

  std::size_t processes() const { return workers_.processes(); }
  // The pids of the live workers.
  std::vector<pid_t> worker_pids() const { return workers_.worker_pids(); }

 private:
  template <class T>
  friend class IMapIterator;

  void check_running() const;
  void submit(const detail::TaskCall& call, std::shared_ptr<detail::CallSink> sink);

  // Each element as f's parameter tuple: the element itself (map) or its fields (starmap).
  template <class Arguments, class Item>
  static Arguments arguments_of(const Item& item, bool star) {
    if constexpr (requires { std::tuple_size<Item>::value; }) {
      if constexpr (std::is_constructible_v<Arguments, const Item&>) {
        if (star) return Arguments(item);
      }
    }
    if constexpr (std::tuple_size_v<Arguments> == 1 &&
                  std::is_constructible_v<std::tuple_element_t<0, Arguments>, const Item&>) {
      if (!star) return Arguments(item);
    }
    throw TypeError(star ? "starmap: each element must be a tuple of the function's arguments"
                         : "map: the function must take one argument of the element's type");
  }

  // Splits the input into chunks of f's argument tuples.
  template <class F, class Range>
  static auto chunks_of(const Range& iterable, std::size_t chunksize, bool star) {
    using Arguments = typename detail::PoolFunction<std::decay_t<F>>::Arguments;
    std::vector<std::vector<Arguments>> chunks;
    for (const auto& item : iterable) {
      if (chunks.empty() || chunks.back().size() == chunksize) chunks.emplace_back().reserve(chunksize);
      chunks.back().push_back(arguments_of<Arguments>(item, star));
    }
    return chunks;
  }

  template <class F, class Range>
  auto map_chunks(F f, const Range& iterable, std::optional<std::size_t> chunksize,
                  Callbacks<std::vector<detail::pool_result_t<F>>> callbacks, bool star) {
    static_assert(detail::PoolFunction<std::decay_t<F>>::value && detail::PoolFunction<std::decay_t<F>>::crosses,
                  PYCONC_POOL_CALLABLE_MESSAGE);
    using T = detail::pool_result_t<F>;
    static_assert(!std::is_void_v<T>, "map() collects results: use apply_async() for void functions");
    check_running();
    if (chunksize && *chunksize < 1) throw ValueError("Chunksize must be 1+, not " + std::to_string(*chunksize));
    const std::size_t items = static_cast<std::size_t>(std::distance(std::begin(iterable), std::end(iterable)));
    auto chunks = chunks_of<F>(iterable, chunksize.value_or(detail::default_chunksize(items, processes())), star);
    auto gather = std::make_shared<detail::MapGather<T>>(items, chunks.size(), std::move(callbacks));
    for (std::size_t i = 0; i < chunks.size(); ++i)
      submit(detail::make_chunk_call(f, chunks[i]), std::make_shared<detail::MapChunkSink<T>>(gather, i));
    return AsyncResult<std::vector<T>>(gather->future());
  }

  template <class T, class F, class Range>
  IMapIterator<T> imap_chunks(F f, const Range& iterable, std::size_t chunksize, bool ordered);

  detail::WorkerPool workers_;
};

// What imap and imap_unordered return: next(timeout) and a range of the results. A chunk's
// exception is raised when iteration reaches it (imap) or when it comes (imap_unordered);
// multiprocessing::TimeoutError when next(timeout) waits in vain.
template <class T>
class IMapIterator {
 public:
  IMapIterator(IMapIterator&&) = default;
  IMapIterator& operator=(IMapIterator&&) = default;

  std::optional<T> next(Timeout timeout = forever) {
    while (position_ == current_.size()) {
      if (taken_ == chunks_.size()) return std::nullopt;
      const std::size_t index = ordered_ ? taken_ : take_finished(timeout);
      AsyncResult<std::vector<T>> chunk(chunks_[index]);
      if (!chunk.wait(timeout)) throw TimeoutError();
      ++taken_;  // a chunk's exception is raised once, then iteration goes on past it
      current_ = std::move(chunk.get());
      position_ = 0;
    }
    return std::move(current_[position_++]);
  }

  using iterator = pyconc::detail::NextIterator<IMapIterator, T>;
  iterator begin() { return iterator(this); }
  iterator end() { return iterator(); }

 private:
  friend class Pool;
  explicit IMapIterator(bool ordered)
      : ordered_(ordered), finished_(std::make_shared<queue::SimpleQueue<std::size_t>>()) {}

  std::size_t take_finished(Timeout timeout) {
    try {
      return finished_->get(true, timeout);
    } catch (const queue::Empty&) {
      throw TimeoutError();
    }
  }

  // A chunk's sink: completes its future and says which chunk has come.
  class ChunkSink : public detail::ResultSink<std::vector<T>> {
   public:
    ChunkSink(futures::Future<std::vector<T>> future, std::size_t index,
              std::shared_ptr<queue::SimpleQueue<std::size_t>> finished)
        : detail::ResultSink<std::vector<T>>(std::move(future), {}), index_(index), finished_(std::move(finished)) {}
    bool finish(detail::Outcome outcome) override {
      detail::ResultSink<std::vector<T>>::finish(std::move(outcome));
      finished_->put(index_);
      return true;
    }

   private:
    std::size_t index_;
    std::shared_ptr<queue::SimpleQueue<std::size_t>> finished_;
  };

  bool ordered_;
  std::vector<futures::Future<std::vector<T>>> chunks_;
  std::shared_ptr<queue::SimpleQueue<std::size_t>> finished_;
  std::size_t taken_ = 0;
  std::vector<T> current_;
  std::size_t position_ = 0;
};

template <class T, class F, class Range>
IMapIterator<T> Pool::imap_chunks(F f, const Range& iterable, std::size_t chunksize, bool ordered) {
  static_assert(detail::PoolFunction<std::decay_t<F>>::value && detail::PoolFunction<std::decay_t<F>>::crosses,
                PYCONC_POOL_CALLABLE_MESSAGE);
  static_assert(!std::is_void_v<T>, "imap() yields results: use apply_async() for void functions");
  check_running();
  if (chunksize < 1) throw ValueError("Chunksize must be 1+, not " + std::to_string(chunksize));
  IMapIterator<T> results(ordered);
  for (auto& chunk : chunks_of<F>(iterable, chunksize, /*star=*/false)) {
    futures::Future<std::vector<T>> future;
    results.chunks_.push_back(future);
    submit(detail::make_chunk_call(f, chunk), std::make_shared<typename IMapIterator<T>::ChunkSink>(
                                                  future, results.chunks_.size() - 1, results.finished_));
  }
  return results;
}

template <class F, class Range>
IMapIterator<detail::pool_result_t<F>> Pool::imap(F f, const Range& iterable, std::size_t chunksize) {
  return imap_chunks<detail::pool_result_t<F>>(f, iterable, chunksize, /*ordered=*/true);
}
template <class F, class Range>
IMapIterator<detail::pool_result_t<F>> Pool::imap_unordered(F f, const Range& iterable, std::size_t chunksize) {
  return imap_chunks<detail::pool_result_t<F>>(f, iterable, chunksize, /*ordered=*/false);
}

}  // namespace pyconc::multiprocessing
