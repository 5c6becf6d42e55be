// pyconc::threading::Barrier — Python's threading.Barrier.
//
// A cyclic rendezvous for `parties` threads. wait() returns a distinct index 0..parties-1
// in each cycle (the arrival order); the optional action runs once per cycle in the last
// thread to arrive, before anyone is released. abort(), a timeout, or a failing action
// break the barrier: waiters then get BrokenBarrierError (a RuntimeError) until reset().
// As in Python 3.13, parties < 1 throws ValueError.
//
//   pyconc::threading::Barrier start_line(3);
//   // in each of 3 threads:
//   auto index = start_line.wait();      // all three leave together
#pragma once

#include <cstdint>
#include <functional>

#include "pyconc/threading/condition.hpp"

namespace pyconc::threading {

PYCONC_DEFINE_ERROR(BrokenBarrierError, RuntimeError);

class Barrier {
 public:
  explicit Barrier(std::int64_t parties, std::function<void()> action = {},
                   Timeout timeout = forever);
  Barrier(const Barrier&) = delete;
  Barrier& operator=(const Barrier&) = delete;

  std::int64_t wait();  // with the constructor's timeout
  std::int64_t wait(Timeout timeout);
  void reset();
  void abort();

  std::int64_t parties() const { return parties_; }
  std::int64_t n_waiting();
  bool broken();

 private:
  enum class State { filling, draining, resetting, broken };
  void enter();
  void release_all();
  void wait_for_release(const Deadline& deadline);
  void leave();
  void break_barrier();

  Lock lock_;
  Condition cond_{lock_};
  const std::int64_t parties_;
  std::function<void()> action_;
  const Timeout default_timeout_;
  State state_ = State::filling;
  std::int64_t count_ = 0;
};

}  // namespace pyconc::threading
