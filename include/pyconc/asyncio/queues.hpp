// pyconc::asyncio::Queue<T>, LifoQueue<T>, PriorityQueue<T> — Python's asyncio.Queue family
// for coroutines of one loop: put/get wait as suspended tasks; put_nowait/get_nowait raise
// QueueFull/QueueEmpty; task_done/join; Python 3.13's shutdown(immediate) with QueueShutDown.
//
// Python's guarantees (AQ-03/04/05): a cancelled get() never loses an item (if it had been
// woken, the next getter is woken instead), a cancelled put() loses neither a slot nor a
// wake-up, and a get that times out leaves no getter behind. The orderings are the thread
// queues' own (pyconc::queue's storage), so a PriorityQueue is stable for equal priorities.
//
//   asyncio::Queue<int> q(10);
//   co_await q.put(1);
//   int x = co_await q.get();
//   q.task_done();
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <utility>

#include "pyconc/asyncio/locks.hpp"
#include "pyconc/queue/storage.hpp"

namespace pyconc::asyncio {

PYCONC_DEFINE_ERROR(QueueEmpty, Error);
PYCONC_DEFINE_ERROR(QueueFull, Error);
PYCONC_DEFINE_ERROR(QueueShutDown, Error);

namespace detail {

template <class T, class Storage>
class BasicQueue : LoopBound {
 public:
  explicit BasicQueue(std::int64_t maxsize, Storage storage = Storage()) : storage_(std::move(storage)), maxsize_(maxsize) {
    finished_.set();
  }
  BasicQueue(const BasicQueue&) = delete;
  BasicQueue& operator=(const BasicQueue&) = delete;

  std::size_t qsize() const { return storage_.size(); }
  bool empty() const { return storage_.size() == 0; }
  bool full() const { return maxsize_ > 0 && storage_.size() >= static_cast<std::size_t>(maxsize_); }
  std::int64_t maxsize() const { return maxsize_; }

  Coroutine<void> put(T item) {
    while (full()) {
      if (shutdown_) throw QueueShutDown("put: the queue is shut down");
      Future<void> putter = putters_.add(bound_loop());
      const auto cancelled = co_await await_catching(putter);
      if (cancelled) {
        putter.cancel();
        putters_.remove(putter);
        // Woken by a get, but leaving: the slot goes to the next putter.
        if (!full() && !putter.cancelled()) putters_.wake_first_pending();
        std::rethrow_exception(cancelled);
      }
      putters_.remove(putter);
    }
    put_nowait(std::move(item));
  }
  void put_nowait(T item) {
    if (shutdown_) throw QueueShutDown("put_nowait: the queue is shut down");
    if (full()) throw QueueFull("put_nowait: the queue is full");
    storage_.push(std::move(item));
    ++unfinished_;
    finished_.clear();
    getters_.wake_first_pending();
  }

  Coroutine<T> get() {
    while (empty()) {
      if (shutdown_) throw QueueShutDown("get: the queue is shut down and empty");
      Future<void> getter = getters_.add(bound_loop());
      const auto cancelled = co_await await_catching(getter);
      if (cancelled) {
        getter.cancel();
        getters_.remove(getter);
        // Woken for an item, but leaving: the item stays, for the next getter (AQ-03).
        if (!empty() && !getter.cancelled()) getters_.wake_first_pending();
        std::rethrow_exception(cancelled);
      }
      getters_.remove(getter);
    }
    co_return get_nowait();
  }
  T get_nowait() {
    if (empty()) {
      if (shutdown_) throw QueueShutDown("get_nowait: the queue is shut down and empty");
      throw QueueEmpty("get_nowait: the queue is empty");
    }
    T item = std::move(storage_.front());
    storage_.prepare_pop();
    storage_.pop();
    putters_.wake_first_pending();
    return item;
  }

  void task_done() {
    if (unfinished_ == 0) throw ValueError("task_done() called too many times");
    if (--unfinished_ == 0) finished_.set();
  }
  Coroutine<void> join() {
    if (unfinished_ > 0) co_await finished_.wait();
  }
  // Python 3.13's shutdown: puts fail from now on; gets drain what is left (immediate=true
  // discards it, counting each discarded item as done); every waiting caller wakes up.
  void shutdown(bool immediate = false) {
    shutdown_ = true;
    if (immediate) {
      while (!empty()) {
        storage_.prepare_pop();
        storage_.pop();
        if (unfinished_ > 0) --unfinished_;
      }
      if (unfinished_ == 0) finished_.set();
    }
    getters_.wake_all();
    putters_.wake_all();
  }

 private:
  static Coroutine<std::exception_ptr> await_catching(Future<void> waiter) {
    try {
      co_await waiter;
    } catch (const CancelledError&) {
      co_return std::current_exception();
    }
    co_return nullptr;
  }

  Storage storage_;
  std::int64_t maxsize_;
  Waiters getters_;
  Waiters putters_;
  std::uint64_t unfinished_ = 0;
  Event finished_;
  bool shutdown_ = false;
};

}  // namespace detail

template <class T>
class Queue : public detail::BasicQueue<T, queue::detail::FifoStorage<T>> {
 public:
  explicit Queue(std::int64_t maxsize = 0) : detail::BasicQueue<T, queue::detail::FifoStorage<T>>(maxsize) {}
};

template <class T>
class LifoQueue : public detail::BasicQueue<T, queue::detail::LifoStorage<T>> {
 public:
  explicit LifoQueue(std::int64_t maxsize = 0) : detail::BasicQueue<T, queue::detail::LifoStorage<T>>(maxsize) {}
};

template <class T, class Compare = std::less<T>>
class PriorityQueue : public detail::BasicQueue<T, queue::detail::PriorityStorage<T, Compare>> {
 public:
  explicit PriorityQueue(std::int64_t maxsize = 0, Compare compare = Compare())
      : detail::BasicQueue<T, queue::detail::PriorityStorage<T, Compare>>(
            maxsize, queue::detail::PriorityStorage<T, Compare>(std::move(compare))) {}
};

}  // namespace pyconc::asyncio
