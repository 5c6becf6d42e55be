// The parking lot: one address-keyed table of wait queues that every in-process blocking
// primitive of pyconc waits through (CPython 3.13 Python/parking_lot.c, WebKit
// WTF::ParkingLot, Rust parking_lot).
//
// A primitive keeps only its own tiny state word (a Lock is one byte); the queue of
// threads waiting on it lives here, in a bucket chosen by the primitive's address. Each
// bucket has a small lock and an intrusive FIFO list of parked threads; each parked thread
// sleeps on its own futex word. `validate` runs under the bucket lock, so a primitive can
// check "should I still sleep?" atomically with respect to any unpark on the same address:
// no wake-up is ever lost. Unparks are FIFO per address.
//
// One address, one reason to wait: an object that parks for its own reason must not use an
// address shared with a primitive inside it (a struct's first member has the struct's
// address), or an unpark meant for one wakes a waiter of the other and a wake-up is lost.
//
// Eventual fairness: about once a millisecond per bucket (randomised) an unpark reports
// be_fair, and a lock then hands itself to the woken thread instead of letting a running
// thread barge in, so no waiter starves.
//
//   // waiter                                         // waker
//   park(&flag, [&] { return flag == 0; }, {}, d);    flag = 1; unpark_all(&flag);
#pragma once

#include <cstddef>
#include <cstdint>

#include "pyconc/detail/function_ref.hpp"
#include "pyconc/timeout.hpp"

namespace pyconc::detail::parking_lot {

enum class ParkResult {
  unparked,   // an unpark_* call woke us; token says what it handed over
  timed_out,  // the deadline passed while we were queued
  invalid,    // validate() returned false: we never slept
};

struct ParkOutcome {
  ParkResult result;
  std::uintptr_t token;  // the value returned by the unparker's callback (0 for unpark_all)
  bool unparked() const { return result == ParkResult::unparked; }
};

struct UnparkResult {
  bool did_unpark = false;        // a thread was taken off the queue
  bool may_have_more = false;     // other threads are still parked on this address
  bool be_fair = false;           // time for a direct hand-off (eventual fairness)
};

// Queue the calling thread on `address` if validate() holds, run before_sleep() (after
// queueing, so a waker that runs after it will find us), then sleep until unparked or the
// deadline. Never returns spuriously. If before_sleep() returns false we do not sleep: we
// leave the queue and return `invalid`, or `unparked` with the token when an unparker had
// already taken us (so the caller can account for that wake-up).
ParkOutcome park(const void* address, FunctionRef<bool()> validate,
                 FunctionRef<bool()> before_sleep, const Deadline& deadline);
inline ParkOutcome park(const void* address, FunctionRef<bool()> validate,
                        const Deadline& deadline) {
  return park(address, validate, [] { return true; }, deadline);
}

// Wake the longest-parked thread on `address`. callback runs under the bucket lock with
// what happened (also when nobody was parked), and its return value is the token the woken
// thread receives: the place for a lock to update its state word atomically with the queue.
UnparkResult unpark_one(const void* address, FunctionRef<std::uintptr_t(UnparkResult)> callback);
inline UnparkResult unpark_one(const void* address) {
  return unpark_one(address, [](UnparkResult) -> std::uintptr_t { return 0; });
}

// Wake every thread parked on `address`; returns how many.
std::size_t unpark_all(const void* address);

}  // namespace pyconc::detail::parking_lot
