// Shared helpers for the test programs: thread groups, stopwatches, and the timing rule
// from ARCHITECTURE.md (a timed wait for T lasts at least ~T; the upper bound is loose,
// because the machines have 2 noisy cores).
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <string>
#include <chrono>
#include <functional>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "parked.hpp"
#include "pyconc/threading.hpp"

namespace pyconc::testing {

using namespace std::chrono_literals;
using Seconds = std::chrono::duration<double>;

class Stopwatch {
 public:
  Seconds elapsed() const { return std::chrono::steady_clock::now() - start_; }

 private:
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

// A timed wait for `expected` must last at least 0.9x of it (Python's suite allows 0.6x;
// our waits use absolute monotonic deadlines, so they cannot end early) and less than
// 10x plus 2 s of scheduling noise.
inline void expect_timed_wait(Seconds took, Seconds expected) {
  EXPECT_GE(took.count(), expected.count() * 0.9) << "returned before its timeout";
  EXPECT_LT(took.count(), expected.count() * 10 + 2.0) << "took far longer than its timeout";
}

// Runs fn(i) in n pyconc threads; join() waits for all of them.
class ThreadGroup {
 public:
  ThreadGroup(int n, std::function<void(int)> fn) {
    for (int i = 0; i < n; ++i) {
      threads_.push_back(std::make_unique<threading::Thread>([fn, i] { fn(i); }));
      threads_.back()->start();
    }
  }
  ~ThreadGroup() { join(); }
  void join() {
    for (auto& t : threads_) t->join();
  }
  std::size_t size() const { return threads_.size(); }
  threading::Thread& operator[](std::size_t i) { return *threads_[i]; }

 private:
  std::vector<std::unique_ptr<threading::Thread>> threads_;
};

// Polls cond until it holds (for states that nothing signals, e.g. "N threads are now
// blocked"); fails the test after a generous limit instead of hanging.
inline bool eventually(const std::function<bool()>& cond, Seconds limit = 30s) {
  Stopwatch sw;
  while (!cond()) {
    if (sw.elapsed() > limit) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

// True while the thread is asleep in futex(2) (parked.hpp): once a test thread has passed
// its last step before a blocking call, that means it is parked in that call.
inline bool is_sleeping(const threading::Thread& t) {
  const auto tid = t.native_id();
  return tid && parked_in_futex(*tid);
}

inline bool all_sleeping(ThreadGroup& group) {
  for (std::size_t i = 0; i < group.size(); ++i)
    if (!is_sleeping(group[i])) return false;
  return true;
}

// A random short pause, to shake interleavings in stress tests.
inline void jitter(std::minstd_rand& rng) {
  switch (rng() % 8) {
    case 0: std::this_thread::yield(); break;
    case 1: std::this_thread::sleep_for(std::chrono::microseconds(rng() % 50)); break;
    default: break;
  }
}

}  // namespace pyconc::testing
