#include "pyconc/threading/condition.hpp"

#include <limits>

#include "pyconc/detail/parking_lot.hpp"

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

bool Condition::wait(Timeout timeout) {
  if (!is_owned()) throw RuntimeError("cannot wait on un-acquired lock");
  const Deadline deadline = timeout.deadline();
  ++waiters_;
  std::uint64_t saved = 0;
  // The lock is released only once we are queued, so a notify() (which needs the lock)
  // cannot slip in between and be lost.
  const auto outcome =
      pl::park(this, [] { return true; }, [&] { saved = release_save(); }, deadline);
  acquire_restore(saved);
  if (!outcome.unparked()) --waiters_;  // a notifier uncounts the threads it wakes
  return outcome.unparked();
}

void Condition::notify(std::size_t n) {
  if (!is_owned()) throw RuntimeError("cannot notify on un-acquired lock");
  while (n > 0 && waiters_ > 0) {
    if (!pl::unpark_one(this).did_unpark) break;  // the rest timed out and are leaving
    --waiters_;
    --n;
  }
}

void Condition::notify_all() { notify(std::numeric_limits<std::size_t>::max()); }

}  // namespace pyconc::threading
