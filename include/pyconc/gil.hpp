// pyconc::gil::InterpreterLock — CPython's global interpreter lock as a reusable primitive
// (the "new GIL" of Python/ceval_gil.c, Python 3.2 and later), opt-in.
//
// One thread at a time holds it. A holder runs until another thread has waited for the
// switch interval (5 ms by default, sys.setswitchinterval's) with no switch happening; that
// waiter then sets a drop request, and the holder gives the lock up at its next check point
// (`check()`, the eval loop's "eval breaker"). A forced drop hands the lock straight to the
// longest waiter and queues the dropper behind it, so the dropper cannot take it back at
// once: the waiter is guaranteed to run (CPython's FORCE_SWITCHING). `Released` gives the
// lock up around a blocking call, as Py_BEGIN_ALLOW_THREADS / Py_END_ALLOW_THREADS do.
//
// How it differs from CPython: every release with waiters hands the lock to the oldest
// waiter (FIFO), where CPython's drop_gil only signals and lets whoever runs first take it.
// So a thread that releases around a short call and takes the lock again queues behind the
// threads already waiting instead of barging past them; the convoy effect (a thread back
// from I/O waits up to one interval for a CPU-bound holder to reach a drop) is the same.
// Taking it twice from one thread, or releasing it from a thread that does not hold it, is a
// RuntimeError (CPython: a fatal error); so is check() from such a thread whenever a drop is
// due (its fast path is a single load, like CPython's eval breaker, and checks nothing).
//
// Beyond teaching (pyconc-lab's `gil` experiment), it is the tool for serialising a runtime
// or library that is not thread-safe — an embedded interpreter, a legacy C library with
// global state — while still time-slicing the threads that use it fairly: each thread
// calls check() between units of work, and wraps its blocking calls in Released.
//
// Forking: in a forked child the lock is held by the forking thread if it held it at
// fork() and is free otherwise; the threads that were waiting do not exist there.
//
//   pyconc::gil::InterpreterLock gil;                 // one per "interpreter"
//   std::scoped_lock hold(gil);                       // PyGILState_Ensure
//   for (auto& item : work) { step(item); gil.check(); }   // the eval loop's check point
//   { pyconc::gil::Released io(gil); read(fd, buf, n); }   // Py_BEGIN_ALLOW_THREADS
//   auto stats = gil.statistics();                    // switches, forced drops, waits
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <vector>

#include "pyconc/threading/lock.hpp"

namespace pyconc::gil {

// What one thread did with the lock since the last reset_statistics().
struct ThreadStatistics {
  std::uint64_t thread_id = 0;  // threading::get_ident()
  std::uint64_t acquisitions = 0;
  std::uint64_t waits = 0;         // acquisitions that had to queue
  std::uint64_t forced_drops = 0;  // times a drop request made this thread give it up
  std::chrono::nanoseconds wait_time{0};     // queued, summed
  std::chrono::nanoseconds longest_wait{0};  // the longest single queueing
};

struct Statistics {
  std::uint64_t acquisitions = 0;
  std::uint64_t switches = 0;       // acquisitions by a thread other than the last holder
  std::uint64_t drop_requests = 0;  // times a waiter's interval ran out with no switch
  std::uint64_t forced_drops = 0;   // drops a request caused (at most one per request)
  std::vector<ThreadStatistics> threads;  // ordered by thread id
};

class InterpreterLock {
 public:
  static constexpr std::chrono::milliseconds default_switch_interval{5};

  InterpreterLock() : InterpreterLock(default_switch_interval) {}
  // ValueError unless the interval is strictly positive (sys.setswitchinterval's rule).
  explicit InterpreterLock(std::chrono::duration<double> switch_interval);
  // Destroying it while a thread waits for it is a bug: checked builds abort.
  ~InterpreterLock();
  InterpreterLock(const InterpreterLock&) = delete;
  InterpreterLock& operator=(const InterpreterLock&) = delete;

  // take_gil: blocks until this thread holds the lock, queued FIFO behind earlier waiters.
  void acquire();
  // drop_gil: gives the lock to the oldest waiter, or frees it.
  void release();
  // The eval loop's check point: one relaxed load unless a waiter asked for the lock, in
  // which case this thread hands it over and queues for it again.
  void check() {
    if (drop_request_.load(std::memory_order_relaxed)) [[unlikely]]
      yield_to_waiter();
  }

  bool locked() const { return holder_.load(std::memory_order_relaxed) != 0; }
  bool held_by_current_thread() const;  // PyGILState_Check
  bool drop_requested() const { return drop_request_.load(std::memory_order_relaxed); }

  // sys.setswitchinterval / sys.getswitchinterval, for this lock (seconds).
  void setswitchinterval(std::chrono::duration<double> interval);
  std::chrono::duration<double> getswitchinterval() const;

  Statistics statistics() const;
  void reset_statistics();

  // Lockable, so std::scoped_lock and std::unique_lock work. try_lock takes the lock only
  // when it is free and nobody is queued (it never jumps the queue).
  void lock() { acquire(); }
  bool try_lock();
  void unlock() { release(); }

 private:
  struct Waiter;
  friend struct ForkReset;

  void check_interval(std::chrono::duration<double> interval) const;
  // Under mutex_: make `thread` the holder, after waiting `waited` (negative: no queueing).
  void grant(std::uint64_t thread, std::chrono::nanoseconds waited);
  // Under mutex_: take the oldest waiter off the queue and make it the holder (or free the
  // lock when nobody waits); the caller wakes the returned waiter after unlocking.
  Waiter* pass_on();
  void wake(Waiter* next);
  // Queued, mutex_ held on entry (released inside): sleep until granted, asking for a drop
  // whenever a whole interval passes with no switch.
  void wait_for_grant(Waiter& self);
  void enqueue(Waiter& waiter);
  void yield_to_waiter();
  void require_holder(const char* what) const;
  void reset_after_fork();

  mutable threading::Lock mutex_;        // guards everything below but the atomics' reads
  std::atomic<std::uint64_t> holder_{0};  // the holder's get_ident(), 0 when free
  std::atomic<bool> drop_request_{false};
  std::atomic<std::int64_t> interval_ns_;
  Waiter* head_ = nullptr;
  Waiter* tail_ = nullptr;
  std::uint64_t switch_number_ = 0;  // CPython's: bumped by every acquisition
  std::uint64_t last_holder_ = 0;
  Statistics totals_;                              // threads is left empty here
  std::map<std::uint64_t, ThreadStatistics> per_thread_;
};

// Py_BEGIN_ALLOW_THREADS ... Py_END_ALLOW_THREADS: gives the lock up for a scope (a
// blocking call) and takes it back at the scope's end, queued behind the waiters.
class Released {
 public:
  explicit Released(InterpreterLock& gil) : gil_(gil) { gil_.release(); }
  ~Released() { gil_.acquire(); }
  Released(const Released&) = delete;
  Released& operator=(const Released&) = delete;

 private:
  InterpreterLock& gil_;
};

}  // namespace pyconc::gil
