// pyconc::multiprocessing::Queue, JoinableQueue, SimpleQueue — Python's multiprocessing
// queues, on shared memory and the shared futex form (no pipe, no feeder thread).
//
// Items are pickled (pyconc::pickle) into a ring buffer in a shared block, so their size can
// vary; put/get/timeout/Full/Empty follow pyconc::queue's rules, except that a negative
// timeout does not wait instead of being a ValueError (MPQ-02). Unlike Python's, put() is
// synchronous: the item is in the queue when put() returns (qsize and empty see it at once),
// and an item that cannot be pickled raises from put() itself, leaving the queue as it was.
// The ring holds QueueOptions::buffer_bytes (1 MiB by default) of pickled items; a single
// item larger than that is a ValueError (raise buffer_bytes for large items).
//
// A process killed inside get() or put() leaves the queue as it was before that call: the
// others go on (see byte_queue.hpp). Create a queue before starting the processes that use
// it and pass it to them as a Process argument; copies are handles to the same queue.
//
//   pyconc::multiprocessing::Queue<std::string> q;
//   void producer(pyconc::multiprocessing::Queue<std::string> q) { q.put("데이터"); }
//   void consumer(pyconc::multiprocessing::Queue<std::string> q) { std::puts(q.get().c_str()); }
#pragma once

#include <cstdint>
#include <string>

#include "pyconc/multiprocessing/byte_queue.hpp"
#include "pyconc/pickle.hpp"
#include "pyconc/queue/errors.hpp"
#include "pyconc/timeout.hpp"

namespace pyconc::multiprocessing {

struct QueueOptions {
  std::size_t buffer_bytes = std::size_t{1} << 20;
};

namespace detail {
inline Deadline queue_deadline(bool block, const Timeout& timeout) {
  if (!block || (!timeout.is_forever() && timeout.negative())) return Deadline::now();
  return timeout.deadline();
}
}  // namespace detail

template <class T>
class Queue {
  static_assert(pickle::Picklable<T>,
                "pyconc::multiprocessing::Queue<T>: T must cross a process boundary (pyconc::pickle::Picklable)");

 public:
  explicit Queue(std::int64_t maxsize = 0, QueueOptions options = {}) : core_(maxsize, options.buffer_bytes) {}

  void put(const T& item, bool block = true, Timeout timeout = forever) {
    check_open();
    if (!core_.put(pickle::dumps(item), detail::queue_deadline(block, timeout))) throw queue::Full("queue is full");
  }
  void put_nowait(const T& item) { put(item, false); }
  T get(bool block = true, Timeout timeout = forever) {
    check_open();
    auto bytes = core_.get(detail::queue_deadline(block, timeout));
    if (!bytes) throw queue::Empty("queue is empty");
    return pickle::loads<T>(*bytes);
  }
  T get_nowait() { return get(false); }

  std::size_t qsize() const { return core_.qsize(); }
  bool empty() const { return qsize() == 0; }
  bool full() const { return core_.maxsize() > 0 && qsize() >= static_cast<std::size_t>(core_.maxsize()); }
  // This handle only: put and get raise ValueError afterwards (MPQ-06).
  void close() { closed_ = true; }

  template <class Archive>
  void serialize(Archive& archive) {
    archive(core_);
  }

 protected:
  void check_open() const {
    if (closed_) throw ValueError("Queue is closed");
  }
  detail::ByteQueue core_;
  bool closed_ = false;
};

// Queue with task_done() and join(), across processes (MPQ-05).
template <class T>
class JoinableQueue : public Queue<T> {
 public:
  using Queue<T>::Queue;
  void task_done() { this->core_.task_done(); }
  // Waits until every item put has been marked done (with a timeout: false if not by then).
  bool join(Timeout timeout = forever) { return this->core_.join(timeout.deadline()); }
  std::uint64_t unfinished_tasks() const { return this->core_.unfinished_tasks(); }
};

// Python's SimpleQueue: put, get, empty, close (MPQ-08).
template <class T>
class SimpleQueue {
 public:
  explicit SimpleQueue(QueueOptions options = {}) : queue_(0, options) {}
  void put(const T& item) { queue_.put(item); }
  T get() { return queue_.get(); }
  bool empty() const { return queue_.empty(); }
  void close() { queue_.close(); }

  template <class Archive>
  void serialize(Archive& archive) {
    archive(queue_);
  }

 private:
  Queue<T> queue_;
};

}  // namespace pyconc::multiprocessing
