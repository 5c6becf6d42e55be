// The shared state behind Future handles: Python's concurrent.futures.Future internals.
// Executor writers and wait()/as_completed() use it; users hold Future<T> handles.
#pragma once

#include <atomic>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <optional>
#include <vector>

#include "pyconc/detail/function_ref.hpp"
#include "pyconc/futures/errors.hpp"
#include "pyconc/threading/lock.hpp"
#include "pyconc/timeout.hpp"

namespace pyconc::futures {

class FutureBase;

namespace detail {

// Python's states. CANCELLED_AND_NOTIFIED is a cancelled future whose executor has
// acknowledged it (set_running_or_notify_cancel); only then do wait()/as_completed() see it.
enum class State : std::uint8_t { pending, running, cancelled, cancelled_and_notified, finished };

// Something waiting on several futures at once (wait(), as_completed(), a pool worker
// helping while it waits): told, under the future's lock, when a future completes.
class Waiter {
 public:
  virtual ~Waiter() = default;
  // `state` is finished, cancelled_and_notified, or (for a plain cancel(), which Python's
  // wait() and as_completed() do not count) cancelled.
  virtual void on_done(class FutureStateBase* future, State state) = 0;
};

// Told when the calling thread is about to block waiting for futures, and when it stops:
// a pool worker lets a spare thread take its place meanwhile (Java's ForkJoinPool
// compensation), so nested waits inside a pool do not starve it of workers.
class BlockingObserver {
 public:
  virtual ~BlockingObserver() = default;
  virtual void begin_blocking() = 0;
  virtual void end_blocking() = 0;
};
// The calling thread's observer, or null.
BlockingObserver*& current_blocking_observer();

// Brackets one blocking wait for futures.
class BlockingRegion {
 public:
  BlockingRegion() : observer_(current_blocking_observer()) {
    if (observer_) observer_->begin_blocking();
  }
  ~BlockingRegion() {
    if (observer_) observer_->end_blocking();
  }
  BlockingRegion(const BlockingRegion&) = delete;
  BlockingRegion& operator=(const BlockingRegion&) = delete;

 private:
  BlockingObserver* observer_;
};

class FutureStateBase : public std::enable_shared_from_this<FutureStateBase> {
 public:
  FutureStateBase() = default;
  FutureStateBase(const FutureStateBase&) = delete;
  FutureStateBase& operator=(const FutureStateBase&) = delete;
  virtual ~FutureStateBase();

  State state() const { return state_.load(std::memory_order_acquire); }
  bool done() const;
  bool running() const { return state() == State::running; }
  bool cancelled() const;
  // Done as wait() and as_completed() count it (Python: CANCELLED_AND_NOTIFIED or FINISHED).
  bool done_for_waiters() const;

  bool cancel();
  bool set_running_or_notify_cancel();
  void set_exception(std::exception_ptr e);
  // Blocks until done (or the deadline); false on timeout.
  bool wait_done(const Deadline& deadline);
  // Waits, then throws what Python's result() would: TimeoutError, CancelledError, or the
  // task's own exception (marking it retrieved). Returns normally on success.
  void wait_for_result(const Timeout& timeout);
  // Python's exception(timeout): the stored exception (null on success), marking it retrieved.
  std::exception_ptr exception(const Timeout& timeout);

  // Callbacks receive the future as a type-erased handle.
  void add_done_callback(std::function<void(const FutureBase&)> fn);
  // Finished with an exception (without marking it retrieved).
  bool has_exception();
  // Returns false (and does not install) when the future already counts as done.
  bool add_waiter(Waiter* waiter);
  void remove_waiter(Waiter* waiter);
  std::string repr() const;

 protected:
  // Python's set_result/set_exception: under the lock, check that the future can still
  // take an outcome (else InvalidStateError), store it, mark it finished, tell waiters;
  // then wake blocked callers and run callbacks outside the lock.
  void finish(pyconc::detail::FunctionRef<void()> store);

 private:
  void wake_and_run_callbacks(std::vector<std::function<void(const FutureBase&)>>& callbacks);
  void notify_waiters_locked(State state);
  bool park_until_done(const Deadline& deadline);

  using Callbacks = std::vector<std::function<void(const FutureBase&)>>;
  // Done callbacks and wait()/as_completed() waiters: most futures never have any, so
  // they live apart, allocated on first use (a pool's per-task memory is the future).
  struct Observers {
    Callbacks callbacks;
    std::vector<Waiter*> waiters;
  };
  Observers& observers_locked();
  Callbacks take_callbacks_locked();

  // Small fields first, packed into one word.
  threading::Lock lock_;
  std::atomic<State> state_{State::pending};
  std::atomic<bool> exception_retrieved_{false};
  std::atomic<std::uint32_t> parked_{0};
  std::exception_ptr exception_;
  std::unique_ptr<Observers> observers_;  // guarded by lock_
};

template <class T>
class FutureState : public FutureStateBase {
 public:
  template <class U>
  void set_result(U&& value) {
    finish([&] { value_.emplace(std::forward<U>(value)); });
  }
  T& value() { return *value_; }

 private:
  std::optional<T> value_;
};

template <>
class FutureState<void> : public FutureStateBase {
 public:
  void set_result() {
    finish([] {});
  }
};

// Reports an exception nobody retrieved (the seeds warn that an unread future swallows
// it). Replace it to handle them elsewhere; the default sends one report through pyconc::report.
using UnretrievedExceptionHook = std::function<void(const std::exception_ptr&, const std::string& future_repr)>;

}  // namespace detail

detail::UnretrievedExceptionHook set_unretrieved_exception_hook(detail::UnretrievedExceptionHook hook);

}  // namespace pyconc::futures
