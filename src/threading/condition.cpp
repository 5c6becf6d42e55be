#include "pyconc/threading/condition.hpp"

#include <exception>
#include <limits>

#include "detail/parking_lot.hpp"

namespace pyconc::threading {

namespace pl = pyconc::detail::parking_lot;

Condition::Condition() : own_rlock_(std::make_unique<RLock>()), rlock_(own_rlock_.get()) {}

bool Condition::is_owned() const {
  if (rlock_) return rlock_->is_owned();
  // A plain Lock has no owner; like Python (which probes with acquire(False)), "held by
  // someone" is the best we can know.
  return lock_->locked();
}

std::uint64_t Condition::release_save() {
  if (rlock_) return rlock_->release_save();
  lock_->release();
  return 1;
}

void Condition::acquire_restore(std::uint64_t saved) {
  if (rlock_) {
    rlock_->acquire_restore(saved);
  } else {
    lock_->acquire();
  }
}

bool Condition::wait(Timeout timeout) { return wait_until(timeout.deadline()); }

bool Condition::wait_until(const Deadline& deadline) {
  if (!is_owned()) throw RuntimeError("cannot wait on un-acquired lock");
  waiters_.fetch_add(1, std::memory_order_relaxed);
  std::uint64_t saved = 0;
  std::exception_ptr release_failed;
  // The lock is released only once we are queued, so a notify() (which needs the lock)
  // cannot slip in between and be lost.
  const auto outcome = pl::park(
      this, [] { return true; },
      [&] {
        try {
          saved = release_save();
          return true;
        } catch (...) {
          // A plain Lock that another thread released meanwhile (its holder is unknown):
          // we leave the queue without sleeping and report it, lock state untouched.
          release_failed = std::current_exception();
          return false;
        }
      },
      deadline);
  if (release_failed) {
    if (!outcome.unparked()) waiters_.fetch_sub(1, std::memory_order_relaxed);
    std::rethrow_exception(release_failed);
  }
  acquire_restore(saved);
  // A notifier uncounts the threads it wakes; a timed-out waiter uncounts itself.
  if (!outcome.unparked()) waiters_.fetch_sub(1, std::memory_order_relaxed);
  return outcome.unparked();
}

void Condition::notify(std::size_t n) {
  if (!is_owned()) throw RuntimeError("cannot notify on un-acquired lock");
  while (n > 0 && waiters_.load(std::memory_order_relaxed) > 0) {
    if (!pl::unpark_one(this).did_unpark) break;  // the rest timed out and are leaving
    waiters_.fetch_sub(1, std::memory_order_relaxed);
    --n;
  }
}

void Condition::notify_all() { notify(std::numeric_limits<std::size_t>::max()); }

}  // namespace pyconc::threading
