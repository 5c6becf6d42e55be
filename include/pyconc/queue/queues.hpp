// pyconc::queue::Queue, LifoQueue, PriorityQueue — Python's queue classes.
//
// Bounded (maxsize > 0) or unbounded blocking queues with put/get, their _nowait forms,
// timeouts raising Full/Empty, task_done/join, and Python 3.13's shutdown(immediate).
// Move-only items work; an item is moved from only once it is stored. try_put/try_get
// are non-throwing twins for hot paths. PriorityQueue returns the smallest item first
// and, beyond Python, equal items in insertion order.
//
//   pyconc::queue::Queue<std::string> q(2);
//   q.put("data-0");                            // blocks while full
//   try { q.put_nowait("x"); } catch (const pyconc::queue::Full&) {}
//   auto item = q.get(true, 5s);                // Empty after 5 s
//   q.task_done();
#pragma once

#include <functional>

#include "pyconc/queue/basic_queue.hpp"
#include "pyconc/queue/storage.hpp"

namespace pyconc::queue {

template <class T>
class Queue : public detail::BasicQueue<T, detail::FifoStorage<T>> {
 public:
  explicit Queue(std::int64_t maxsize = 0) : detail::BasicQueue<T, detail::FifoStorage<T>>(maxsize) {}
};

template <class T>
class LifoQueue : public detail::BasicQueue<T, detail::LifoStorage<T>> {
 public:
  explicit LifoQueue(std::int64_t maxsize = 0)
      : detail::BasicQueue<T, detail::LifoStorage<T>>(maxsize) {}
};

template <class T, class Compare = std::less<T>>
class PriorityQueue : public detail::BasicQueue<T, detail::PriorityStorage<T, Compare>> {
 public:
  explicit PriorityQueue(std::int64_t maxsize = 0, Compare compare = Compare())
      : detail::BasicQueue<T, detail::PriorityStorage<T, Compare>>(
            maxsize, detail::PriorityStorage<T, Compare>(std::move(compare))) {}
};

}  // namespace pyconc::queue
