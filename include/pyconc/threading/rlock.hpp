// pyconc::threading::RLock — Python's threading.RLock.
//
// Owned and counted: the owner may acquire again, and the lock is free once it has been
// released as often as acquired. Release by a thread that does not own it throws
// RuntimeError. Built on Lock, so it waits (and is handed off) the same way.
//
//   pyconc::threading::RLock lock;
//   void inner() { std::scoped_lock g(lock); }
//   void outer() { std::scoped_lock g(lock); inner(); }  // no deadlock
#pragma once

#include <atomic>
#include <cstdint>

#include "pyconc/threading/lock.hpp"

namespace pyconc::threading {

class RLock {
 public:
  RLock() = default;
  RLock(const RLock&) = delete;
  RLock& operator=(const RLock&) = delete;

  bool acquire(bool blocking = true, Timeout timeout = forever);
  void release();

  // Lockable.
  void lock() { acquire(); }
  bool try_lock() { return acquire(false); }
  void unlock() { release(); }

  // Python's _is_owned() and _recursion_count().
  bool is_owned() const;
  std::uint64_t recursion_count() const;

  // Condition.wait's helpers: release completely / restore a saved depth.
  std::uint64_t release_save();
  void acquire_restore(std::uint64_t count);

 private:
  Lock lock_;
  std::atomic<std::uint64_t> owner_{0};  // thread_key() of the owner, 0 when free
  std::uint64_t count_ = 0;              // touched only by the owner
};

}  // namespace pyconc::threading
