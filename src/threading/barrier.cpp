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
  return cycle().wait(parties_, action_, deadline);
}

void Barrier::reset() {
  std::scoped_lock hold(cond_);
  cycle().reset();
}

void Barrier::abort() {
  std::scoped_lock hold(cond_);
  cycle().abort();
}

std::int64_t Barrier::n_waiting() {
  std::scoped_lock hold(cond_);
  return cycle().n_waiting();
}

bool Barrier::broken() {
  std::scoped_lock hold(cond_);
  return cycle().broken();
}

}  // namespace pyconc::threading
