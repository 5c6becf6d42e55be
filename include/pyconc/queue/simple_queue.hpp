// pyconc::queue::SimpleQueue — Python's queue.SimpleQueue.
//
// An unbounded FIFO with no task tracking, no maxsize and no shutdown: put never blocks
// (block and timeout are accepted and ignored, as in Python), get blocks or times out
// with Empty. Never runs user code while holding its lock except T's move constructor,
// so an item's destructor may itself put into the queue.
//
//   pyconc::queue::SimpleQueue<int> q;
//   q.put(1);
//   int x = q.get(true, 100ms);
#pragma once

#include "pyconc/queue/basic_queue.hpp"
#include "pyconc/queue/storage.hpp"

namespace pyconc::queue {

template <class T>
class SimpleQueue {
 public:
  template <class U = T>
  void put(U&& item, bool /*block*/ = true, Timeout /*timeout*/ = forever) {
    impl_.put(std::forward<U>(item));
  }
  template <class U = T>
  void put_nowait(U&& item) { impl_.put(std::forward<U>(item)); }
  T get(bool block = true, Timeout timeout = forever) { return impl_.get(block, timeout); }
  T get_nowait() { return impl_.get(false); }
  std::optional<T> try_get(Timeout timeout = std::chrono::seconds(0)) { return impl_.try_get(timeout); }
  std::size_t qsize() { return impl_.qsize(); }
  bool empty() { return impl_.empty(); }

 private:
  detail::BasicQueue<T, detail::FifoStorage<T>> impl_;
};

}  // namespace pyconc::queue
