// Process-shared Lock, RLock, Semaphore, BoundedSemaphore, Condition, Barrier and Event —
// Python's multiprocessing.synchronize, with threading's semantics across processes.
//
// Each object is a small record in shared memory (a memfd block) on which processes wait
// with the shared futex form: create it before starting the children that use it, and pass
// it to them as a Process argument (fork shares the mapping; spawn and forkserver pass the
// block's descriptor). Copies are handles to the same lock.
//
// Beyond Python, which hangs forever: when a process dies holding a Lock or RLock, the next
// acquire() raises AbandonedLockError and the lock is free again. How the death is seen: the
// lock records the pid of the process that acquired it; a waiter checks every 100 ms whether
// that process still runs (a process that ended, or a zombie not yet reaped, counts as dead),
// so the error comes within about 100 ms of the holder's death. A Semaphore has no holder and
// is not checked. The check trusts the pid: if the dead holder's pid were reused within that
// window by a new process, the lock would wait for that process instead.
//
//   pyconc::multiprocessing::Lock lock;                       // before the children start
//   void worker(pyconc::multiprocessing::Lock lock) { std::scoped_lock hold(lock); ... }
#pragma once

#include <cstdint>
#include <memory>
#include <optional>

#include "pyconc/multiprocessing/errors.hpp"
#include "pyconc/multiprocessing/shared_block.hpp"
#include "pyconc/multiprocessing/target.hpp"
#include "pyconc/threading/barrier_cycle.hpp"
#include "pyconc/timeout.hpp"

namespace pyconc::multiprocessing {

using threading::BrokenBarrierError;

// The lock's last holder died without releasing it; the lock is free again.
PYCONC_DEFINE_ERROR(AbandonedLockError, ProcessError);

namespace detail {
struct SemLockWord;
struct EventWord;
struct ConditionWord;
}  // namespace detail

// Python's multiprocessing.synchronize.SemLock: what Lock, RLock, Semaphore and
// BoundedSemaphore share. Lockable.
class SemLock {
 public:
  // Unlike threading's, a negative timeout or one given with blocking=false is not an
  // error (MPL-04): it does not wait.
  bool acquire(bool blocking = true, Timeout timeout = forever);
  void release();
  void lock() { acquire(); }
  bool try_lock() { return acquire(false); }
  void unlock() { release(); }

  template <class Archive>
  void save(Archive& archive) const {
    detail::SharedBlock::save(archive, block_);
  }
  template <class Archive>
  void load(Archive& archive) {
    block_ = detail::SharedBlock::load(archive);
    word_ = static_cast<detail::SemLockWord*>(block_->data());
  }

 protected:
  friend class Condition;
  // For Condition.wait: release completely (an RLock's whole depth), then take it back.
  std::uint32_t release_save();
  void acquire_restore(std::uint32_t saved);
  bool is_owned_by_caller() const;

  enum class Kind : std::uint32_t { semaphore, recursive_mutex };
  SemLock(Kind kind, std::uint32_t value, std::uint32_t max_value);
  SemLock(std::shared_ptr<detail::SharedBlock> block, std::size_t offset);
  std::uint32_t value() const;

  std::shared_ptr<detail::SharedBlock> block_;
  detail::SemLockWord* word_ = nullptr;

  template <class T>
  friend class Value;
  template <class T>
  friend class Array;
};

// Not owned, like Python's: any process may release it; releasing it unlocked raises
// ValueError (MPL-01).
class Lock : public SemLock {
 public:
  Lock();
};

// Owned by one thread of one process; re-entrant. A release by another raises AssertionError
// (MPL-02).
class RLock : public SemLock {
 public:
  RLock();

 private:
  friend class SemLock;
  RLock(std::shared_ptr<detail::SharedBlock> block, std::size_t offset) : SemLock(std::move(block), offset) {}
  template <class T>
  friend class Value;
  template <class T>
  friend class Array;
};

// get_value() tracks acquire/release; release may go above the initial value (MPL-03).
class Semaphore : public SemLock {
 public:
  explicit Semaphore(std::uint32_t value = 1);
  std::uint32_t get_value() const { return value(); }

 protected:
  Semaphore(std::uint32_t value, std::uint32_t max_value) : SemLock(Kind::semaphore, value, max_value) {}
};

// Releasing above the initial value raises ValueError (MPL-03).
class BoundedSemaphore : public Semaphore {
 public:
  explicit BoundedSemaphore(std::uint32_t value = 1) : Semaphore(value, value) {}
};

// threading.Condition across processes, over a Lock or RLock (by default an RLock of its
// own). wait() releases the lock completely and takes it back before returning; notify(n)
// wakes n of the processes or threads waiting (MPL-05). wait/notify without holding the lock
// raise RuntimeError (for a plain Lock, "held by someone" is what can be checked).
class Condition {
 public:
  Condition();
  explicit Condition(SemLock lock);
  bool acquire(bool blocking = true, Timeout timeout = forever) { return lock_.acquire(blocking, timeout); }
  void release() { lock_.release(); }
  void lock() { acquire(); }
  bool try_lock() { return acquire(false); }
  void unlock() { release(); }

  // True if notified, false on timeout (a zero or negative timeout does not wait).
  bool wait(Timeout timeout = forever);
  bool wait_until(const Deadline& deadline);
  template <class Predicate>
  auto wait_for(Predicate predicate, Timeout timeout = forever) -> decltype(predicate()) {
    const Deadline deadline = timeout.deadline();
    auto result = predicate();
    while (!result && !deadline.expired()) {
      if (deadline.is_never()) {
        wait(forever);
      } else {
        wait(deadline.remaining());
      }
      result = predicate();
    }
    return result;
  }
  void notify(std::uint32_t n = 1);
  void notify_all();

  template <class Archive>
  void save(Archive& archive) const {
    detail::SharedBlock::save(archive, block_);
    archive(lock_);
  }
  template <class Archive>
  void load(Archive& archive) {
    block_ = detail::SharedBlock::load(archive);
    word_ = static_cast<detail::ConditionWord*>(block_->data());
    archive(lock_);
  }

 private:
  void check_owned(const char* what) const;
  SemLock lock_;
  std::shared_ptr<detail::SharedBlock> block_;
  detail::ConditionWord* word_ = nullptr;
};

// threading.Barrier across processes: threading's algorithm (barrier_cycle.hpp) on a
// process-shared Condition with its state in shared memory (MPL-07). The action, run by the
// last arrival of each cycle, is a plain function, so that it can cross to any start method.
class Barrier {
 public:
  explicit Barrier(std::int64_t parties, void (*action)() = nullptr, Timeout timeout = forever);
  // An empty handle, for unpickling into; using it raises ValueError.
  Barrier() = default;
  std::int64_t wait();  // with the constructor's timeout
  std::int64_t wait(Timeout timeout);
  void reset();
  void abort();
  std::int64_t parties() const;
  std::int64_t n_waiting();
  bool broken();

  template <class Archive>
  void save(Archive& archive) const {
    detail::SharedBlock::save(archive, block_);
    archive(cond_, action_, timeout_ns_, has_timeout_);
  }
  template <class Archive>
  void load(Archive& archive) {
    block_ = detail::SharedBlock::load(archive);
    archive(cond_, action_, timeout_ns_, has_timeout_);
  }

 private:
  struct Shared;
  Shared& shared() const;
  threading::detail::BarrierCycle<Condition, std::int64_t> cycle();
  Timeout default_timeout() const;

  std::shared_ptr<detail::SharedBlock> block_;
  Condition cond_;
  std::optional<detail::CodeAddress> action_;  // where the action lives, in any process
  std::int64_t timeout_ns_ = 0;
  bool has_timeout_ = false;
};

// threading.Event across processes: set() in one process wakes waiters in all (MPL-06).
class Event {
 public:
  Event();
  bool is_set() const;
  void set();
  void clear();
  // True when set (or set while waiting, even if cleared again), false after the timeout
  // (a negative timeout does not wait).
  bool wait(Timeout timeout = forever);

  template <class Archive>
  void save(Archive& archive) const {
    detail::SharedBlock::save(archive, block_);
  }
  template <class Archive>
  void load(Archive& archive) {
    block_ = detail::SharedBlock::load(archive);
    word_ = static_cast<detail::EventWord*>(block_->data());
  }

 private:
  std::shared_ptr<detail::SharedBlock> block_;
  detail::EventWord* word_ = nullptr;
};

}  // namespace pyconc::multiprocessing
