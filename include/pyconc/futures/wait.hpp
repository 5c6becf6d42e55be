// pyconc::futures::wait and as_completed — Python's concurrent.futures.wait/as_completed.
//
// Both take any range of futures (Future<T> of one type, or FutureBase handles mixing
// types), collapse duplicates, and never hold a yielded future longer than needed.
// wait() returns {done, not_done} when the return_when condition holds or the timeout
// passes (no exception). as_completed() yields finished futures first, then each as it
// completes; when its timeout (counted from the call) passes with futures unfinished,
// the next step throws TimeoutError("N (of M) futures unfinished").
//
//   auto [done, not_done] = pyconc::futures::wait(fs, 1s, pyconc::futures::FIRST_COMPLETED);
//   for (auto& f : pyconc::futures::as_completed(fs)) use(f.result());
#pragma once

#include <initializer_list>
#include <memory>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "pyconc/futures/future.hpp"
#include "pyconc/threading/event.hpp"

namespace pyconc::futures {

enum class ReturnWhen { FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED };
inline constexpr ReturnWhen FIRST_COMPLETED = ReturnWhen::FIRST_COMPLETED;
inline constexpr ReturnWhen FIRST_EXCEPTION = ReturnWhen::FIRST_EXCEPTION;
inline constexpr ReturnWhen ALL_COMPLETED = ReturnWhen::ALL_COMPLETED;

template <class F>
struct DoneAndNotDone {
  std::vector<F> done;
  std::vector<F> not_done;
};

namespace detail {

// The distinct futures of a range, in first-seen order.
template <class Range>
auto unique_futures(const Range& futures) {
  using F = std::decay_t<decltype(*std::begin(futures))>;
  std::vector<F> unique;
  std::unordered_set<const FutureStateBase*> seen;
  for (const auto& f : futures)
    if (seen.insert(f.state_ptr()).second) unique.push_back(f);
  return unique;
}

// Which of `futures` wait() counts as done when it returns.
std::vector<bool> wait_for_states(const std::vector<FutureStateBase*>& futures,
                                  const Timeout& timeout, ReturnWhen return_when);

// Collects futures as they complete, in completion order (as_completed's waiter).
class CompletionCollector : public Waiter {
 public:
  void on_done(FutureStateBase* future, State state) override;
  // Moves out what has completed since the last call, waiting up to the deadline for at
  // least one. Returns an empty list on timeout.
  std::vector<FutureStateBase*> take(const Deadline& deadline);

 private:
  threading::Lock lock_;
  threading::Event event_;
  std::vector<FutureStateBase*> finished_;
};

}  // namespace detail

template <class Range>
auto wait(const Range& futures, Timeout timeout = forever, ReturnWhen return_when = ALL_COMPLETED) {
  auto unique = detail::unique_futures(futures);
  using F = typename decltype(unique)::value_type;
  std::vector<detail::FutureStateBase*> states;
  for (const auto& f : unique) states.push_back(f.state_ptr());
  const auto done_flags = detail::wait_for_states(states, timeout, return_when);
  DoneAndNotDone<F> result;
  for (std::size_t i = 0; i < unique.size(); ++i)
    (done_flags[i] ? result.done : result.not_done).push_back(std::move(unique[i]));
  return result;
}

// wait({f1, f2}): a braced list of futures of one type, or of FutureBase handles.
template <class T>
auto wait(std::initializer_list<Future<T>> futures, Timeout timeout = forever,
          ReturnWhen return_when = ALL_COMPLETED) {
  return wait<std::initializer_list<Future<T>>>(futures, timeout, return_when);
}
inline auto wait(std::initializer_list<FutureBase> futures, Timeout timeout = forever,
                 ReturnWhen return_when = ALL_COMPLETED) {
  return wait<std::initializer_list<FutureBase>>(futures, timeout, return_when);
}

// The range as_completed() returns; iterate it once.
template <class F>
class AsCompleted {
 public:
  template <class Range>
  AsCompleted(const Range& futures, Timeout timeout)
      : deadline_(timeout.deadline()), collector_(std::make_unique<detail::CompletionCollector>()) {
    for (auto& f : detail::unique_futures(futures)) {
      auto* state = f.state_ptr();
      if (state->add_waiter(collector_.get())) {
        pending_.emplace(state, std::move(f));
      } else {
        ready_.push_back(std::move(f));  // already finished: yielded first
      }
    }
    total_ = pending_.size() + ready_.size();
    std::reverse(ready_.begin(), ready_.end());  // popped from the back, in input order
  }
  AsCompleted(const AsCompleted&) = delete;
  AsCompleted& operator=(const AsCompleted&) = delete;
  ~AsCompleted() {
    for (auto& [state, f] : pending_) state->remove_waiter(collector_.get());
  }

  // The next future to finish, or nothing when all have been yielded.
  std::optional<F> next() {
    while (ready_.empty() && !pending_.empty()) {
      auto finished = collector_->take(deadline_);
      if (finished.empty())
        throw TimeoutError(std::to_string(pending_.size()) + " (of " + std::to_string(total_) +
                           ") futures unfinished");
      std::reverse(finished.begin(), finished.end());
      for (auto* state : finished) {
        auto it = pending_.find(state);
        if (it == pending_.end()) continue;
        state->remove_waiter(collector_.get());  // no stale pointer once we are gone
        ready_.push_back(std::move(it->second));
        pending_.erase(it);
      }
    }
    if (ready_.empty()) return std::nullopt;
    F f = std::move(ready_.back());
    ready_.pop_back();
    return f;
  }

  class iterator {
   public:
    using value_type = F;
    using difference_type = std::ptrdiff_t;
    iterator() = default;
    explicit iterator(AsCompleted* owner) : owner_(owner) { advance(); }
    F& operator*() { return *current_; }
    F* operator->() { return &*current_; }
    iterator& operator++() {
      advance();
      return *this;
    }
    void operator++(int) { advance(); }
    friend bool operator==(const iterator& a, const iterator& b) {
      return a.current_.has_value() == b.current_.has_value();
    }

   private:
    void advance() { current_ = owner_->next(); }
    AsCompleted* owner_ = nullptr;
    std::optional<F> current_;
  };

  iterator begin() { return iterator(this); }
  iterator end() { return iterator(); }

 private:
  Deadline deadline_;
  std::unique_ptr<detail::CompletionCollector> collector_;
  std::unordered_map<detail::FutureStateBase*, F> pending_;
  std::vector<F> ready_;
  std::size_t total_ = 0;
};

template <class Range>
auto as_completed(const Range& futures, Timeout timeout = forever) {
  using F = std::decay_t<decltype(*std::begin(futures))>;
  return AsCompleted<F>(futures, timeout);
}
template <class T>
auto as_completed(std::initializer_list<Future<T>> futures, Timeout timeout = forever) {
  return AsCompleted<Future<T>>(futures, timeout);
}
inline auto as_completed(std::initializer_list<FutureBase> futures, Timeout timeout = forever) {
  return AsCompleted<FutureBase>(futures, timeout);
}

}  // namespace pyconc::futures
