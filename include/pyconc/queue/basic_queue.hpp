// The one blocking queue behind Queue, LifoQueue, PriorityQueue and SimpleQueue: Python's
// queue.Queue algorithm (one Lock, Conditions not_empty / not_full / all_tasks_done, a
// count of unfinished tasks, 3.13's shutdown), parameterised by the storage order.
#pragma once

#include <cstdint>
#include <exception>
#include <mutex>
#include <optional>
#include <utility>

#include "pyconc/detail/spin.hpp"
#include "pyconc/queue/errors.hpp"
#include "pyconc/threading/condition.hpp"
#include "pyconc/threading/lock.hpp"
#include "pyconc/timeout.hpp"

namespace pyconc::queue::detail {

// Python's rules for (block, timeout): non-blocking ignores the timeout; a negative
// timeout while blocking is a ValueError; zero means "try once".
inline Deadline blocking_deadline(bool block, const Timeout& timeout) {
  if (!block) return Deadline::now();
  if (timeout.is_forever()) return Deadline::never();
  if (timeout.negative()) throw ValueError("'timeout' must be a non-negative number");
  return timeout.deadline();
}

template <class T, class Storage>
class BasicQueue {
 public:
  using value_type = T;

  explicit BasicQueue(std::int64_t maxsize = 0, Storage storage = Storage())
      : storage_(std::move(storage)), maxsize_(maxsize) {}
  BasicQueue(const BasicQueue&) = delete;
  BasicQueue& operator=(const BasicQueue&) = delete;

  // Python's put(item, block=True, timeout=None). The item is moved from only when it is
  // stored: after Full or ShutDown the caller still has it.
  template <class U = T>
  void put(U&& item, bool block = true, Timeout timeout = forever) {
    std::unique_lock hold(mutex_);
    if (shutdown_) throw ShutDown("put() on a shut-down queue");
    const Deadline deadline = bounded() ? blocking_deadline(block, timeout) : Deadline::never();
    switch (wait_for_room(deadline)) {
      case Wait::timed_out: throw Full("queue is full");
      case Wait::shut_down: throw ShutDown("put() on a shut-down queue");
      case Wait::ready: break;
    }
    store(std::forward<U>(item));
  }
  template <class U = T>
  void put_nowait(U&& item) { put(std::forward<U>(item), false); }

  // Python's get(block=True, timeout=None).
  T get(bool block = true, Timeout timeout = forever) {
    std::unique_lock hold(mutex_);
    if (shutdown_ && storage_.size() == 0) throw ShutDown("get() on a shut-down, empty queue");
    switch (wait_for_item(blocking_deadline(block, timeout))) {
      case Wait::timed_out: throw Empty("queue is empty");
      case Wait::shut_down: throw ShutDown("get() on a shut-down, empty queue");
      case Wait::ready: break;
    }
    return take();
  }
  T get_nowait() { return get(false); }

  // Non-throwing twins for hot paths: wait up to `timeout` (default: not at all); false /
  // empty when the queue stayed full / empty, or is shut down. A negative timeout is 0.
  template <class U = T>
  bool try_put(U&& item, Timeout timeout = std::chrono::seconds(0)) {
    std::unique_lock hold(mutex_);
    if (shutdown_ || wait_for_room(timeout.deadline()) != Wait::ready) return false;
    store(std::forward<U>(item));
    return true;
  }
  std::optional<T> try_get(Timeout timeout = std::chrono::seconds(0)) {
    std::unique_lock hold(mutex_);
    if (wait_for_item(timeout.deadline()) != Wait::ready) return std::nullopt;
    storage_.prepare_pop();
    const PopWhenTaken pop(*this);
    return std::optional<T>(std::in_place, std::move_if_noexcept(storage_.front()));
  }

  std::size_t qsize() {
    std::scoped_lock hold(mutex_);
    return storage_.size();
  }
  bool empty() { return qsize() == 0; }
  bool full() {
    std::scoped_lock hold(mutex_);
    return bounded() && storage_.size() >= static_cast<std::size_t>(maxsize_);
  }
  std::int64_t maxsize() {
    std::scoped_lock hold(mutex_);
    return maxsize_;
  }
  // Python lets code assign q.maxsize; waiting producers re-check against the new size.
  void set_maxsize(std::int64_t maxsize) {
    std::scoped_lock hold(mutex_);
    maxsize_ = maxsize;
    not_full_.notify_all();
  }

  void task_done() {
    std::scoped_lock hold(mutex_);
    if (unfinished_ == 0) throw ValueError("task_done() called too many times");
    if (--unfinished_ == 0) all_tasks_done_.notify_all();
  }
  void join() {
    std::unique_lock hold(mutex_);
    while (unfinished_ > 0) all_tasks_done_.wait();
  }
  std::uint64_t unfinished_tasks() {
    std::scoped_lock hold(mutex_);
    return unfinished_;
  }

  // Python 3.13's shutdown(immediate=False): puts fail from now on; gets drain what is
  // left (immediate=True discards it, counting each discarded item as done); every
  // blocked caller wakes up.
  void shutdown(bool immediate = false) {
    std::scoped_lock hold(mutex_);
    shutdown_ = true;
    if (immediate) {
      const std::size_t discarded = storage_.size();
      storage_.clear();
      unfinished_ -= std::min<std::uint64_t>(unfinished_, discarded);
      all_tasks_done_.notify_all();
    }
    not_empty_.notify_all();
    not_full_.notify_all();
  }
  bool is_shutdown() {
    std::scoped_lock hold(mutex_);
    return shutdown_;
  }

 private:
  enum class Wait { ready, timed_out, shut_down };

  bool bounded() const { return maxsize_ > 0; }

  // Both wait_for_* run with mutex_ held and return with it held.
  Wait wait_for_room(const Deadline& deadline) {
    for (int round = 0; bounded() && storage_.size() >= static_cast<std::size_t>(maxsize_); ++round) {
      if (!wait_on(not_full_, deadline, round)) return Wait::timed_out;
      if (shutdown_) return Wait::shut_down;
    }
    return Wait::ready;
  }
  Wait wait_for_item(const Deadline& deadline) {
    for (int round = 0; storage_.size() == 0; ++round) {
      if (shutdown_) return Wait::shut_down;
      if (!wait_on(not_empty_, deadline, round)) return Wait::timed_out;
    }
    return Wait::ready;
  }
  // Returns false once the deadline has passed. The first few rounds only step aside
  // (drop the lock and yield) instead of parking, while yields are cheap: the other side
  // usually makes progress within a few microseconds, and a park/unpark pair costs ~30 us
  // here (the cost model is in pyconc/detail/spin.hpp).
  bool wait_on(threading::Condition& condition, const Deadline& deadline, int round) {
    if (deadline.expired()) return false;
    if (round < pyconc::detail::kQueueYieldRounds && pyconc::detail::yields_are_cheap()) {
      mutex_.release();
      pyconc::detail::polite_yield();
      mutex_.acquire();
      return true;  // the lock was dropped: the caller must look at the queue again
    }
    condition.wait_until(deadline);
    return true;
  }

  template <class U>
  void store(U&& item) {
    storage_.push(std::forward<U>(item));  // may throw: nothing is counted then
    ++unfinished_;
    not_empty_.notify();
  }
  // The item is built straight into the caller's object (guaranteed elision), and only
  // once that succeeded does it leave the queue: a copy or move that throws leaves it there.
  T take() {
    storage_.prepare_pop();  // may throw (a comparator): the queue is unchanged then
    const PopWhenTaken pop(*this);
    return T(std::move_if_noexcept(storage_.front()));
  }
  class PopWhenTaken {
   public:
    explicit PopWhenTaken(BasicQueue& q) : q_(q), exceptions_(std::uncaught_exceptions()) {}
    ~PopWhenTaken() {
      if (std::uncaught_exceptions() != exceptions_) return;  // the copy or move threw
      q_.storage_.pop();
      if (q_.bounded()) q_.not_full_.notify();  // nobody waits for room in an unbounded queue
    }
    PopWhenTaken(const PopWhenTaken&) = delete;
    PopWhenTaken& operator=(const PopWhenTaken&) = delete;

   private:
    BasicQueue& q_;
    const int exceptions_;
  };

  threading::Lock mutex_;
  threading::Condition not_empty_{mutex_};
  threading::Condition not_full_{mutex_};
  threading::Condition all_tasks_done_{mutex_};
  Storage storage_;
  std::int64_t maxsize_;
  std::uint64_t unfinished_ = 0;
  bool shutdown_ = false;
};

}  // namespace pyconc::queue::detail
