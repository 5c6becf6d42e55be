// pyconc::asyncio's synchronisation for coroutines of one loop: Lock, Event, Condition,
// Semaphore, BoundedSemaphore, Barrier — Python's asyncio.locks, built on futures, so a waiter
// is a suspended task, never a blocked thread. Not thread-safe (Python's are not either).
//
// Python's hand-off rules (ALK-02/03, ASEM-02/03): waiters are served strictly FIFO, a
// newcomer queues behind them, and a waiter cancelled after it was woken passes the lock or
// the unit on, so nothing is lost and nothing hangs.
//
// `async with lock:` is `auto held = co_await lock.hold();` (released when `held` goes).
// The primitive must outlive the coroutines that use it (they refer to it), as a Python object
// lives while referenced. It belongs to the loop it first had to wait in (ALK-04).
//
//   asyncio::Lock lock;
//   asyncio::Coroutine<void> worker() {
//     auto held = co_await lock.hold();
//     co_await asyncio::sleep(10ms);     // nobody else holds `lock` meanwhile
//   }
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>

#include "pyconc/asyncio/task.hpp"
#include "pyconc/threading/barrier_cycle.hpp"

namespace pyconc::asyncio {

namespace detail {

// The loop a primitive belongs to, fixed the first time it has to wait (Python's
// _LoopBoundMixin: an acquire that does not wait binds nothing).
class LoopBound {
 protected:
  EventLoop& bound_loop();

 private:
  std::weak_ptr<LoopCore> loop_;  // weak: a new loop at a dead one's address is still another
  bool bound_ = false;
};

// Waiting futures, oldest first.
class Waiters {
 public:
  Future<void> add(EventLoop& loop);
  void remove(const Future<void>& waiter);
  // Completes the oldest waiter that is not done; false if there was none.
  bool wake_first_pending();
  // Completes the oldest waiter if it is not done (Python's Lock._wake_up_first).
  void wake_oldest();
  void wake_all();
  bool any_not_cancelled() const;
  bool empty() const { return waiters_.empty(); }
  std::size_t size() const { return waiters_.size(); }

 private:
  std::deque<Future<void>> waiters_;
};

}  // namespace detail

// Releases an acquired primitive when it goes out of scope (Python's `async with`).
template <class Primitive>
class [[nodiscard]] Held {
 public:
  explicit Held(Primitive& primitive) : primitive_(&primitive) {}
  Held(Held&& other) noexcept : primitive_(std::exchange(other.primitive_, nullptr)) {}
  Held& operator=(Held&&) = delete;
  ~Held() {
    if (primitive_) primitive_->release();
  }

 private:
  Primitive* primitive_;
};

class Lock : detail::LoopBound {
 public:
  Lock() = default;
  Lock(const Lock&) = delete;
  Lock& operator=(const Lock&) = delete;

  Coroutine<bool> acquire();
  // RuntimeError "Lock is not acquired." when it is not held.
  void release();
  bool locked() const { return locked_; }
  Coroutine<Held<Lock>> hold();

 private:
  bool locked_ = false;
  detail::Waiters waiters_;
};

class Event : detail::LoopBound {
 public:
  Event() = default;
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  Coroutine<bool> wait();
  void set();
  void clear() { set_ = false; }
  bool is_set() const { return set_; }

 private:
  bool set_ = false;
  detail::Waiters waiters_;
};

class Condition : detail::LoopBound {
 public:
  Condition() : owned_(std::make_unique<Lock>()), lock_(owned_.get()) {}  // over a new Lock
  explicit Condition(Lock& lock) : lock_(&lock) {}                        // shares `lock`
  Condition(const Condition&) = delete;
  Condition& operator=(const Condition&) = delete;

  Coroutine<bool> acquire() { return lock_->acquire(); }
  void release() { lock_->release(); }
  bool locked() const { return lock_->locked(); }
  Coroutine<Held<Condition>> hold();

  // Releases the lock, waits for a notify, re-acquires the lock (also when cancelled, before
  // the CancelledError goes on). RuntimeError without the lock.
  Coroutine<bool> wait();
  Coroutine<bool> wait_for(std::function<bool()> predicate);
  void notify(std::size_t n = 1);
  void notify_all();

 private:
  std::unique_ptr<Lock> owned_;
  Lock* lock_;
  detail::Waiters waiters_;
};

class Semaphore : detail::LoopBound {
 public:
  explicit Semaphore(std::int64_t value = 1);  // ValueError below 0
  Semaphore(const Semaphore&) = delete;
  Semaphore& operator=(const Semaphore&) = delete;
  virtual ~Semaphore() = default;

  Coroutine<bool> acquire();
  virtual void release();
  // True when an acquire() would wait: no unit left, or waiters queued (FIFO).
  bool locked() const;
  Coroutine<Held<Semaphore>> hold();
  std::int64_t value() const { return value_; }

 protected:
  std::int64_t value_;

 private:
  bool wake_up_next();
  detail::Waiters waiters_;
};

class BoundedSemaphore : public Semaphore {
 public:
  explicit BoundedSemaphore(std::int64_t value = 1) : Semaphore(value), bound_(value) {}
  // ValueError "BoundedSemaphore released too many times" above the initial value.
  void release() override;

 private:
  std::int64_t bound_;
};

using threading::BrokenBarrierError;

// Python's asyncio.Barrier: no action, no timeout; wait() gives each task its index.
class Barrier {
 public:
  explicit Barrier(std::int64_t parties);  // ValueError below 1
  Barrier(const Barrier&) = delete;
  Barrier& operator=(const Barrier&) = delete;

  Coroutine<std::int64_t> wait();
  Coroutine<void> reset();
  Coroutine<void> abort();
  std::int64_t parties() const { return parties_; }
  std::int64_t n_waiting() const { return state_ == State::filling ? count_ : 0; }
  bool broken() const { return state_ == State::broken; }

 private:
  enum class State { filling, draining, resetting, broken };
  Coroutine<std::int64_t> pass();
  void leave();
  Condition condition_;
  std::int64_t parties_;
  std::int64_t count_ = 0;
  State state_ = State::filling;
};

}  // namespace pyconc::asyncio
