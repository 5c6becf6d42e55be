#include "pyconc/threading/barrier.hpp"

#include <mutex>

namespace pyconc::threading {

Barrier::Barrier(std::int64_t parties, std::function<void()> action, Timeout timeout)
    : parties_(parties), action_(std::move(action)), default_timeout_(timeout) {
  if (parties < 1) throw ValueError("parties must be >= 1");
}

std::int64_t Barrier::wait() { return wait(default_timeout_); }

std::int64_t Barrier::wait(Timeout timeout) {
  const Deadline deadline = timeout.deadline();  // a bad timeout raises before we enter
  std::scoped_lock hold(cond_);
  enter();
  const std::int64_t index = count_++;
  struct Leave {
    Barrier* self;
    ~Leave() { self->leave(); }
  } leave_on_exit{this};
  if (index + 1 == parties_) {
    release_all();
  } else {
    wait_for_release(deadline);
  }
  return index;
}

// Wait out a previous cycle that is still draining or resetting.
void Barrier::enter() {
  while (state_ == State::draining || state_ == State::resetting) cond_.wait();
  if (state_ == State::broken) throw BrokenBarrierError("barrier is broken");
}

// The last arrival: run the action, then let everyone go.
void Barrier::release_all() {
  try {
    if (action_) action_();
  } catch (...) {
    break_barrier();
    throw;
  }
  state_ = State::draining;
  cond_.notify_all();
}

void Barrier::wait_for_release(const Deadline& deadline) {
  while (state_ == State::filling && !deadline.expired()) cond_.wait_until(deadline);
  if (state_ == State::filling) {
    break_barrier();
    throw BrokenBarrierError("barrier wait timed out");
  }
  if (state_ == State::broken || state_ == State::resetting)
    throw BrokenBarrierError("barrier is broken");
}

// The last thread out of a draining or resetting cycle reopens the barrier.
void Barrier::leave() {
  if (--count_ == 0 && (state_ == State::draining || state_ == State::resetting)) {
    state_ = State::filling;
    cond_.notify_all();
  }
}

void Barrier::reset() {
  std::scoped_lock hold(cond_);
  if (count_ > 0) {
    if (state_ == State::filling || state_ == State::broken) state_ = State::resetting;
  } else {
    state_ = State::filling;
  }
  cond_.notify_all();
}

void Barrier::abort() {
  std::scoped_lock hold(cond_);
  break_barrier();
}

void Barrier::break_barrier() {
  state_ = State::broken;
  cond_.notify_all();
}

std::int64_t Barrier::n_waiting() {
  std::scoped_lock hold(cond_);
  return state_ == State::filling ? count_ : 0;
}

bool Barrier::broken() {
  std::scoped_lock hold(cond_);
  return state_ == State::broken;
}

}  // namespace pyconc::threading
