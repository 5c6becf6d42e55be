// pyconc::asyncio::EventLoop — Python's asyncio event loop: callbacks, timers, the loop's
// clock, running and stopping, and the exception handler. One loop runs per thread at a time.
//
// Two parts, kept apart on purpose (docs/architecture.md): the scheduler (the ready queue of
// callbacks, the timer heap, one iteration of Python's _run_once) and the reactor (libuv,
// which waits for I/O, signals and cross-thread wake-ups). A later multi-threaded scheduler
// can take over the first part and keep the second.
//
// Python's rules, the same here: callbacks run once each, in FIFO order, never inside the
// call that scheduled them (LOOP-01); one iteration runs the callbacks that were ready when
// it began (LOOP-02); timers fire in order of their time, due when `when < time() +
// resolution` (LOOP-03/04); call_soon_threadsafe is the only call another thread may make, and
// it wakes the loop (LOOP-05); stop() lets the current iteration finish (LOOP-06).
//
//   pyconc::asyncio::EventLoop loop;
//   loop.call_later(std::chrono::milliseconds(10), [&] { loop.stop(); });
//   loop.call_soon([] { std::puts("first"); });
//   loop.run_forever();
//   loop.close();
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include "pyconc/asyncio/errors.hpp"
#include "pyconc/detail/unique_function.hpp"

namespace pyconc::futures {
class Executor;
class ThreadPoolExecutor;
}  // namespace pyconc::futures

namespace pyconc::asyncio {

class EventLoop;
template <class T>
class Coroutine;
template <class T>
class Task;
template <class T>
class Future;

namespace detail {
class LoopCore;
class FutureCore;

struct HandleState {
  pyconc::detail::UniqueFunction<void()> callback;
  bool cancelled = false;
  bool repeating = false;  // readers, writers, signal handlers: run at every event
  double when = 0;         // timers: the loop time it is due at
};

// A callback run many times: its arguments are passed as copies each time.
template <class F, class... Args>
auto bind_repeating(F&& f, Args&&... args) {
  return [f = std::decay_t<F>(std::forward<F>(f)), bound = std::tuple<std::decay_t<Args>...>(std::forward<Args>(args)...)]() mutable {
    std::apply(f, bound);
  };
}
}  // namespace detail

// Python's asyncio.Handle: a callback scheduled on a loop; cancel() before it runs stops it.
class Handle {
 public:
  Handle() = default;
  explicit Handle(std::shared_ptr<detail::HandleState> state) : state_(std::move(state)) {}
  void cancel();
  bool cancelled() const { return state_ && state_->cancelled; }

 protected:
  std::shared_ptr<detail::HandleState> state_;
};

// Python's asyncio.TimerHandle: a Handle with the loop time it is due at.
class TimerHandle : public Handle {
 public:
  using Handle::Handle;
  double when() const { return state_ ? state_->when : 0; }
};

// Python's exception-handler context: 'message', and 'exception', 'future' or 'handle' when
// there is one (future: the task's or future's repr).
struct ExceptionContext {
  std::string message;
  std::exception_ptr exception;
  std::string future;
  bool has_handle = false;
};
using ExceptionHandler = std::function<void(EventLoop&, const ExceptionContext&)>;

class EventLoop {
 public:
  EventLoop();  // Python's new_event_loop()
  ~EventLoop();  // closes the loop if it was not closed (Python warns "unclosed event loop")
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Python's call_soon(callback, *args): runs callback(args...) on a later iteration.
  template <class F, class... Args>
  Handle call_soon(F&& callback, Args&&... args) {
    return schedule_soon(pyconc::detail::bind_call(std::forward<F>(callback), std::forward<Args>(args)...));
  }
  // Python's call_later(delay, ...) and call_at(when, ...); `when` is on time()'s clock.
  template <class Rep, class Period, class F, class... Args>
  TimerHandle call_later(std::chrono::duration<Rep, Period> delay, F&& callback, Args&&... args) {
    return call_at(time() + std::chrono::duration<double>(delay).count(), std::forward<F>(callback),
                   std::forward<Args>(args)...);
  }
  template <class F, class... Args>
  TimerHandle call_at(double when, F&& callback, Args&&... args) {
    return schedule_at(when, pyconc::detail::bind_call(std::forward<F>(callback), std::forward<Args>(args)...));
  }
  // The one call other threads may make: queues the callback and wakes the loop.
  template <class F, class... Args>
  Handle call_soon_threadsafe(F&& callback, Args&&... args) {
    return schedule_threadsafe(pyconc::detail::bind_call(std::forward<F>(callback), std::forward<Args>(args)...));
  }
  // Python's loop.time(): the monotonic clock, in seconds.
  double time() const;

  // Runs until stop(). RuntimeError if this loop or another one runs in this thread.
  void run_forever();
  // Runs until the coroutine (wrapped in a task) or the future is done; returns its result
  // or raises its exception. RuntimeError "Event loop stopped before Future completed." when
  // stop() came first.
  template <class T>
  T run_until_complete(Coroutine<T> coroutine);
  template <class T>
  T run_until_complete(Future<T> future);
  void stop();
  // Drops pending callbacks and timers; RuntimeError while running. Idempotent.
  void close();
  bool is_running() const;
  bool is_closed() const;

  template <class T>
  Task<T> create_task(Coroutine<T> coroutine, std::string name = {});

  // Python's add_reader/add_writer(fd, callback, *args): callback(args...) runs at every
  // iteration while fd is readable (writable) — level-triggered: unread data keeps it firing.
  // Adding again replaces the callback. remove_* say whether one was removed (LOOP-12).
  template <class F, class... Args>
  Handle add_reader(int fd, F&& callback, Args&&... args) {
    return watch_fd(fd, true, detail::bind_repeating(std::forward<F>(callback), std::forward<Args>(args)...));
  }
  template <class F, class... Args>
  Handle add_writer(int fd, F&& callback, Args&&... args) {
    return watch_fd(fd, false, detail::bind_repeating(std::forward<F>(callback), std::forward<Args>(args)...));
  }
  bool remove_reader(int fd);
  bool remove_writer(int fd);
  // Python's add_signal_handler(sig, callback, *args): callback runs as an ordinary loop
  // callback (not in the signal handler) at each arrival; SIGKILL and SIGSTOP are
  // RuntimeError, a bad number ValueError. remove_signal_handler restores the default action
  // and says whether a handler was set (LOOP-13).
  template <class F, class... Args>
  Handle add_signal_handler(int signum, F&& callback, Args&&... args) {
    return watch_signal(signum, detail::bind_repeating(std::forward<F>(callback), std::forward<Args>(args)...));
  }
  bool remove_signal_handler(int signum);

  // Python's run_in_executor(executor, fn, *args) (threads.hpp): fn(args...) runs in
  // `executor`, or, for null, in the default executor (a ThreadPoolExecutor made on first
  // use, threads "asyncio_N"); the result is a Future of this loop.
  template <class F, class... Args>
  auto run_in_executor(futures::Executor* executor, F fn, Args... args);
  void set_default_executor(std::shared_ptr<futures::ThreadPoolExecutor> executor);
  // Waits (in another thread, the loop going on) for the default executor's work to end.
  // Afterwards run_in_executor(nullptr, ...) raises RuntimeError.
  Coroutine<void> shutdown_default_executor();
  futures::Executor& default_executor();

  // Python's exception handler (LOOP-14..16). Empty restores the default, which prints the
  // message and the exception to the report channel (stderr).
  void set_exception_handler(ExceptionHandler handler);
  void call_exception_handler(const ExceptionContext& context);
  void default_exception_handler(const ExceptionContext& context);

  // Python's debug mode (LOOP-18): steps slower than slow_callback_duration are reported.
  void set_debug(bool enabled);
  bool get_debug() const;
  void set_slow_callback_duration(double seconds);

  detail::LoopCore& core() const { return *core_; }
  const std::shared_ptr<detail::LoopCore>& core_ptr() const { return core_; }

 private:
  Handle schedule_soon(pyconc::detail::UniqueFunction<void()> callback);
  TimerHandle schedule_at(double when, pyconc::detail::UniqueFunction<void()> callback);
  Handle schedule_threadsafe(pyconc::detail::UniqueFunction<void()> callback);
  Handle watch_fd(int fd, bool reading, pyconc::detail::UniqueFunction<void()> callback);
  Handle watch_signal(int signum, pyconc::detail::UniqueFunction<void()> callback);
  void run_until_done(detail::FutureCore& future);

  std::shared_ptr<detail::LoopCore> core_;
};

// Python's get_running_loop(): RuntimeError "no running event loop" outside one.
EventLoop& get_running_loop();
// Python's _get_running_loop(): the running loop of this thread, or null.
EventLoop* _get_running_loop();

}  // namespace pyconc::asyncio
