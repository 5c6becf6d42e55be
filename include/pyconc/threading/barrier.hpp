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

#include "pyconc/threading/barrier_cycle.hpp"
#include "pyconc/threading/condition.hpp"

namespace pyconc::threading {

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
  detail::BarrierCycle<Condition, std::int64_t> cycle() { return {cond_, state_, count_}; }

  Lock lock_;
  Condition cond_{lock_};
  const std::int64_t parties_;
  std::function<void()> action_;
  const Timeout default_timeout_;
  detail::BarrierState state_ = detail::BarrierState::filling;
  std::int64_t count_ = 0;
};

}  // namespace pyconc::threading
