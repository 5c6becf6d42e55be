#include "pyconc/futures/wait.hpp"

#include <mutex>

namespace pyconc::futures::detail {

namespace {

// Python's _FirstCompletedWaiter / _AllCompletedWaiter in one: counts completions and
// raises the event when wait()'s condition holds.
class WaitWaiter : public Waiter {
 public:
  WaitWaiter(ReturnWhen mode, std::size_t pending) : mode_(mode), pending_(pending) {}

  void on_done(FutureStateBase* future, State state) override {
    if (state == State::cancelled) return;  // not acknowledged yet: wait() does not count it
    std::scoped_lock hold(lock_);
    finished_.insert(future);
    if (mode_ == ReturnWhen::FIRST_COMPLETED ||
        (mode_ == ReturnWhen::FIRST_EXCEPTION && future->has_exception()) || --pending_ == 0)
      event.set();
  }
  bool finished(FutureStateBase* future) {
    std::scoped_lock hold(lock_);
    return finished_.count(future) > 0;
  }

  threading::Event event;

 private:
  threading::Lock lock_;
  const ReturnWhen mode_;
  std::size_t pending_;
  std::unordered_set<FutureStateBase*> finished_;
};

}  // namespace

std::vector<bool> wait_for_states(const std::vector<FutureStateBase*>& futures,
                                  const Timeout& timeout, ReturnWhen return_when) {
  if (return_when != ReturnWhen::FIRST_COMPLETED && return_when != ReturnWhen::FIRST_EXCEPTION &&
      return_when != ReturnWhen::ALL_COMPLETED)
    throw ValueError("Invalid return condition");
  const Deadline deadline = timeout.deadline();  // the timeout runs from the call
  std::vector<bool> done(futures.size(), false);
  std::size_t done_count = 0;
  bool failed = false;
  for (std::size_t i = 0; i < futures.size(); ++i) {
    if (futures[i]->done_for_waiters()) {
      done[i] = true;
      ++done_count;
      failed = failed || futures[i]->has_exception();
    }
  }
  const bool satisfied = done_count == futures.size() ||
                         (return_when == ReturnWhen::FIRST_COMPLETED && done_count > 0) ||
                         (return_when == ReturnWhen::FIRST_EXCEPTION && failed);
  if (satisfied) return done;

  WaitWaiter waiter(return_when, futures.size() - done_count);
  std::vector<FutureStateBase*> installed;
  for (std::size_t i = 0; i < futures.size(); ++i) {
    if (done[i]) continue;
    if (futures[i]->add_waiter(&waiter)) {
      installed.push_back(futures[i]);
    } else {
      waiter.on_done(futures[i], futures[i]->state());  // finished in between
    }
  }
  {
    const BlockingRegion blocking;
    waiter.event.wait_until(deadline);
  }
  for (auto* f : installed) f->remove_waiter(&waiter);
  for (std::size_t i = 0; i < futures.size(); ++i)
    if (!done[i] && waiter.finished(futures[i])) done[i] = true;
  return done;
}

void CompletionCollector::on_done(FutureStateBase* future, State state) {
  if (state == State::cancelled) return;  // as_completed yields it once acknowledged
  std::scoped_lock hold(lock_);
  finished_.push_back(future);
  event_.set();
}

std::vector<FutureStateBase*> CompletionCollector::take(const Deadline& deadline) {
  if (!event_.is_set() && !deadline.expired()) {
    const BlockingRegion blocking;
    event_.wait_until(deadline);
  }
  std::scoped_lock hold(lock_);
  std::vector<FutureStateBase*> out;
  out.swap(finished_);
  event_.clear();
  return out;
}

}  // namespace pyconc::futures::detail
