// pyconc::threading::Timer — Python's threading.Timer.
//
// A Thread that calls fn(args...) once, `interval` after start(), unless cancel() comes
// first. cancel() ends the waiting thread at once (it does not sit out the interval);
// after the call has started it has no effect.
//
//   pyconc::threading::Timer t(3s, [] { std::puts("3 seconds later"); });
//   t.start();
//   t.cancel();   // changed our mind
#pragma once

#include "pyconc/threading/event.hpp"
#include "pyconc/threading/thread.hpp"

namespace pyconc::threading {

class Timer : public Thread {
 public:
  template <class F, class... Args>
  Timer(Timeout interval, F&& fn, Args&&... args)
      : interval_(interval),
        function_(pyconc::detail::bind_call(std::forward<F>(fn), std::forward<Args>(args)...)) {}
  ~Timer() override;

  void cancel() { finished_.set(); }
  void run() override;

 private:
  Timeout interval_;
  pyconc::detail::UniqueFunction<void()> function_;
  Event finished_;
};

}  // namespace pyconc::threading
