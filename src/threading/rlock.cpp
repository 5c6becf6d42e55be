#include "pyconc/threading/rlock.hpp"

#include "pyconc/detail/thread_key.hpp"

namespace pyconc::threading {

using pyconc::detail::thread_key;

bool RLock::acquire(bool blocking, Timeout timeout) {
  const std::uint64_t me = thread_key();
  if (owner_.load(std::memory_order_relaxed) == me) {
    detail::lock_acquire_deadline(blocking, timeout);  // same argument errors as Python
    ++count_;
    return true;
  }
  if (!lock_.acquire(blocking, timeout)) return false;
  owner_.store(me, std::memory_order_relaxed);
  count_ = 1;
  return true;
}

void RLock::release() {
  if (owner_.load(std::memory_order_relaxed) != thread_key())
    throw RuntimeError("cannot release un-acquired lock");
  if (--count_ == 0) {
    owner_.store(0, std::memory_order_relaxed);
    lock_.release();
  }
}

bool RLock::is_owned() const { return owner_.load(std::memory_order_relaxed) == thread_key(); }

std::uint64_t RLock::recursion_count() const { return is_owned() ? count_ : 0; }

std::uint64_t RLock::release_save() {
  if (!is_owned()) throw RuntimeError("cannot release un-acquired lock");
  const std::uint64_t count = count_;
  count_ = 0;
  owner_.store(0, std::memory_order_relaxed);
  lock_.release();
  return count;
}

void RLock::acquire_restore(std::uint64_t count) {
  lock_.acquire();
  owner_.store(thread_key(), std::memory_order_relaxed);
  count_ = count;
}

}  // namespace pyconc::threading
