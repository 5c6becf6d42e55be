#include "pyconc/threading/timer.hpp"

namespace pyconc::threading {

void Timer::run() {
  finished_.wait(interval_);
  if (!finished_.is_set()) function_();
  finished_.set();
  function_.reset();
}

// run() lives in this object, so a started timer must not outlive it: cancel and join.
Timer::~Timer() {
  cancel();
  if (ident() && is_alive()) join();
}

}  // namespace pyconc::threading
