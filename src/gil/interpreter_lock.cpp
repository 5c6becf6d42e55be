#include "pyconc/gil.hpp"

#include <mutex>
#include <new>
#include <set>

#include "detail/parking_lot.hpp"
#include "pyconc/detail/assert.hpp"
#include "pyconc/errors.hpp"
#include "pyconc/os.hpp"
#include "pyconc/threading/thread.hpp"

namespace pyconc::gil {

namespace parking_lot = pyconc::detail::parking_lot;
using std::chrono::nanoseconds;

// A queued thread, on its own stack. Its address is its parking key. Only a granter takes
// it off the queue (acquire has no timeout), and `granted` is set inside the unpark
// callback, under the parking lot's bucket lock, so the waiter cannot leave (and free this)
// while its granter still needs it.
struct InterpreterLock::Waiter {
  std::uint64_t thread;
  Clock::time_point queued_at = Clock::now();
  Waiter* next = nullptr;
  std::atomic<bool> granted{false};
};

// Every live lock, so a forked child can reset the ones whose waiters did not come along.
struct ForkReset {
  threading::Lock mutex;
  std::set<InterpreterLock*> locks;

  static ForkReset& instance() {
    static ForkReset* registry = [] {
      auto* r = new ForkReset();  // never destroyed: locks may outlive static destruction
      os::register_at_fork(
          [r] {
            r->mutex.lock();
            for (auto* l : r->locks) l->mutex_.lock();  // nothing half-changed at fork()
          },
          [r] {
            for (auto* l : r->locks) l->mutex_.unlock();
            r->mutex.unlock();
          },
          [r] {
            for (auto* l : r->locks) l->reset_after_fork();
            new (&r->mutex) threading::Lock();  // held by us, and no one else is here
          });
      return r;
    }();
    return *registry;
  }
};

InterpreterLock::InterpreterLock(std::chrono::duration<double> switch_interval) {
  check_interval(switch_interval);
  interval_ns_.store(std::chrono::duration_cast<nanoseconds>(switch_interval).count());
  auto& registry = ForkReset::instance();
  std::scoped_lock hold(registry.mutex);
  registry.locks.insert(this);
}

InterpreterLock::~InterpreterLock() {
  PYCONC_ASSERT(head_ == nullptr, "an InterpreterLock is destroyed while threads wait for it");
  auto& registry = ForkReset::instance();
  std::scoped_lock hold(registry.mutex);
  registry.locks.erase(this);
}

void InterpreterLock::reset_after_fork() {
  new (&mutex_) threading::Lock();
  head_ = tail_ = nullptr;
  drop_request_.store(false);
  if (holder_.load() != threading::get_ident()) holder_.store(0);
}

void InterpreterLock::check_interval(std::chrono::duration<double> interval) const {
  if (!(interval.count() > 0)) throw ValueError("switch interval must be strictly positive");
}

void InterpreterLock::setswitchinterval(std::chrono::duration<double> interval) {
  check_interval(interval);
  interval_ns_.store(std::chrono::duration_cast<nanoseconds>(interval).count());
}

std::chrono::duration<double> InterpreterLock::getswitchinterval() const {
  return nanoseconds(interval_ns_.load());
}

bool InterpreterLock::held_by_current_thread() const {
  return holder_.load(std::memory_order_relaxed) == threading::get_ident();
}

void InterpreterLock::grant(std::uint64_t thread, nanoseconds waited) {
  holder_.store(thread, std::memory_order_relaxed);
  drop_request_.store(false, std::memory_order_relaxed);  // served: whoever asked now runs
  ++switch_number_;
  ++totals_.acquisitions;
  if (thread != last_holder_) ++totals_.switches;
  last_holder_ = thread;
  auto& mine = per_thread_[thread];
  mine.thread_id = thread;
  ++mine.acquisitions;
  if (waited >= nanoseconds::zero()) {
    ++mine.waits;
    mine.wait_time += waited;
    if (waited > mine.longest_wait) mine.longest_wait = waited;
  }
}

void InterpreterLock::enqueue(Waiter& waiter) {
  if (tail_) tail_->next = &waiter;
  else head_ = &waiter;
  tail_ = &waiter;
}

InterpreterLock::Waiter* InterpreterLock::pass_on() {
  Waiter* next = head_;
  if (!next) {
    holder_.store(0, std::memory_order_relaxed);
    drop_request_.store(false, std::memory_order_relaxed);
    return nullptr;
  }
  head_ = next->next;
  if (!head_) tail_ = nullptr;
  grant(next->thread, std::chrono::duration_cast<nanoseconds>(Clock::now() - next->queued_at));
  return next;
}

void InterpreterLock::wake(Waiter* next) {
  if (!next) return;
  parking_lot::unpark_one(next, [next](parking_lot::UnparkResult) -> std::uintptr_t {
    next->granted.store(true, std::memory_order_release);
    return 0;
  });
}

void InterpreterLock::wait_for_grant(Waiter& self) {
  std::uint64_t seen_switch = switch_number_;
  mutex_.unlock();
  while (!self.granted.load(std::memory_order_acquire)) {
    const auto outcome = parking_lot::park(
        &self, [&self] { return !self.granted.load(std::memory_order_relaxed); },
        Deadline::after(nanoseconds(interval_ns_.load(std::memory_order_relaxed))));
    if (outcome.result != parking_lot::ParkResult::timed_out) continue;
    // A whole interval with no switch: ask the holder to drop at its next check point.
    std::scoped_lock hold(mutex_);
    if (!self.granted.load(std::memory_order_relaxed) && switch_number_ == seen_switch &&
        !drop_request_.load(std::memory_order_relaxed)) {
      drop_request_.store(true, std::memory_order_relaxed);
      ++totals_.drop_requests;
    }
    seen_switch = switch_number_;
  }
}

void InterpreterLock::acquire() {
  const auto me = threading::get_ident();
  mutex_.lock();
  if (holder_.load(std::memory_order_relaxed) == me) {
    mutex_.unlock();
    throw RuntimeError("this thread already holds the interpreter lock");
  }
  if (holder_.load(std::memory_order_relaxed) == 0 && head_ == nullptr) {
    grant(me, nanoseconds(-1));
    mutex_.unlock();
    return;
  }
  Waiter self{me};
  enqueue(self);
  wait_for_grant(self);
}

bool InterpreterLock::try_lock() {
  const auto me = threading::get_ident();
  std::scoped_lock hold(mutex_);
  if (holder_.load(std::memory_order_relaxed) == me)
    throw RuntimeError("this thread already holds the interpreter lock");
  if (holder_.load(std::memory_order_relaxed) != 0 || head_ != nullptr) return false;
  grant(me, nanoseconds(-1));
  return true;
}

void InterpreterLock::require_holder(const char* what) const {
  if (holder_.load(std::memory_order_relaxed) != threading::get_ident())
    throw RuntimeError(std::string(what) + " of an interpreter lock this thread does not hold");
}

void InterpreterLock::release() {
  Waiter* next;
  {
    std::scoped_lock hold(mutex_);
    require_holder("release");
    next = pass_on();
  }
  wake(next);
}

void InterpreterLock::yield_to_waiter() {
  const auto me = threading::get_ident();
  mutex_.lock();
  if (holder_.load(std::memory_order_relaxed) != me) {
    mutex_.unlock();
    require_holder("check");  // throws
  }
  if (!drop_request_.load(std::memory_order_relaxed) || head_ == nullptr) {
    drop_request_.store(false, std::memory_order_relaxed);
    mutex_.unlock();
    return;
  }
  ++totals_.forced_drops;
  ++per_thread_[me].forced_drops;
  // Hand over and queue behind, in one critical section: no third thread can slip in,
  // and this one cannot take the lock back before the waiter has run (FORCE_SWITCHING).
  Waiter* next = pass_on();
  Waiter self{me};
  enqueue(self);
  // Woken with mutex_ held (wait_for_grant is what lets it go): the woken thread does not
  // need mutex_ to run, so this costs it nothing.
  wake(next);
  wait_for_grant(self);
}

Statistics InterpreterLock::statistics() const {
  std::scoped_lock hold(mutex_);
  Statistics out = totals_;
  for (const auto& [id, stats] : per_thread_) out.threads.push_back(stats);
  return out;
}

void InterpreterLock::reset_statistics() {
  std::scoped_lock hold(mutex_);
  totals_ = Statistics{};
  per_thread_.clear();
}

}  // namespace pyconc::gil
