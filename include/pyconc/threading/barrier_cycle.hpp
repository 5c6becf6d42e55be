// Internal: Python's Barrier algorithm (Lib/threading.py), written once for both barriers:
// threading::Barrier (a Condition in this process, state in the object) and
// multiprocessing::Barrier (a process-shared Condition, state in shared memory). Every
// function runs with the condition's lock held by the caller.
#pragma once

#include <cstdint>
#include <functional>

#include "pyconc/errors.hpp"
#include "pyconc/timeout.hpp"

namespace pyconc::threading {

PYCONC_DEFINE_ERROR(BrokenBarrierError, RuntimeError);

namespace detail {

enum class BarrierState : std::int32_t { filling, draining, resetting, broken };

// Cond: wait() and wait_until(Deadline), notify_all(). State and Count: where the cycle's
// state and its number of threads inside live.
template <class Cond, class Count>
class BarrierCycle {
 public:
  BarrierCycle(Cond& cond, BarrierState& state, Count& count) : cond_(cond), state_(state), count_(count) {}

  std::int64_t wait(std::int64_t parties, const std::function<void()>& action, const Deadline& deadline) {
    enter();
    const std::int64_t index = count_++;
    struct Leave {
      BarrierCycle* self;
      ~Leave() { self->leave(); }
    } leave_on_exit{this};
    if (index + 1 == parties) {
      release_all(action);
    } else {
      wait_for_release(deadline);
    }
    return index;
  }

  void reset() {
    if (count_ > 0) {
      if (state_ == BarrierState::filling || state_ == BarrierState::broken) state_ = BarrierState::resetting;
    } else {
      state_ = BarrierState::filling;
    }
    cond_.notify_all();
  }

  void abort() {
    state_ = BarrierState::broken;
    cond_.notify_all();
  }

  std::int64_t n_waiting() const { return state_ == BarrierState::filling ? count_ : 0; }
  bool broken() const { return state_ == BarrierState::broken; }

 private:
  // Wait out a previous cycle that is still draining or resetting.
  void enter() {
    while (state_ == BarrierState::draining || state_ == BarrierState::resetting) cond_.wait();
    if (state_ == BarrierState::broken) throw BrokenBarrierError("barrier is broken");
  }

  // The last arrival: run the action, then let everyone go.
  void release_all(const std::function<void()>& action) {
    try {
      if (action) action();
    } catch (...) {
      abort();
      throw;
    }
    state_ = BarrierState::draining;
    cond_.notify_all();
  }

  void wait_for_release(const Deadline& deadline) {
    while (state_ == BarrierState::filling && !deadline.expired()) cond_.wait_until(deadline);
    if (state_ == BarrierState::filling) {
      abort();
      throw BrokenBarrierError("barrier wait timed out");
    }
    if (state_ == BarrierState::broken || state_ == BarrierState::resetting)
      throw BrokenBarrierError("barrier is broken");
  }

  // The last thread out of a draining or resetting cycle reopens the barrier.
  void leave() {
    if (--count_ == 0 && (state_ == BarrierState::draining || state_ == BarrierState::resetting)) {
      state_ = BarrierState::filling;
      cond_.notify_all();
    }
  }

  Cond& cond_;
  BarrierState& state_;
  Count& count_;
};

}  // namespace detail

}  // namespace pyconc::threading
