#include <mutex>
#include <set>

#include "support.hpp"

namespace {

using namespace pyconc::testing;
using pyconc::threading::Barrier;
using pyconc::threading::BrokenBarrierError;

// covers BAR-01
TEST(Barrier, CyclicLockstep) {
  constexpr int kParties = 4, kPasses = 10;
  Barrier barrier(kParties);
  std::atomic<int> phase_counts[kPasses] = {};
  std::atomic<bool> out_of_step{false};
  ThreadGroup group(kParties, [&](int) {
    for (int pass = 0; pass < kPasses; ++pass) {
      phase_counts[pass].fetch_add(1);
      barrier.wait();
      if (phase_counts[pass].load() != kParties) out_of_step = true;  // all arrived
      barrier.wait();
    }
  });
  group.join();
  EXPECT_FALSE(out_of_step.load());
}

// covers BAR-02
TEST(Barrier, IndicesAreDistinctPerCycle) {
  constexpr int kParties = 5;
  Barrier barrier(kParties);
  pyconc::threading::Lock lock;
  std::vector<std::multiset<std::int64_t>> per_cycle(3);
  ThreadGroup group(kParties, [&](int) {
    for (int cycle = 0; cycle < 3; ++cycle) {
      const auto index = barrier.wait();
      std::scoped_lock hold(lock);
      per_cycle[cycle].insert(index);
    }
  });
  group.join();
  for (auto& indices : per_cycle)
    EXPECT_EQ(indices, (std::multiset<std::int64_t>{0, 1, 2, 3, 4}));
}

// covers BAR-03
TEST(Barrier, ActionRunsOncePerCycleBeforeRelease) {
  std::atomic<int> actions{0};
  std::atomic<bool> released_before_action{false};
  Barrier barrier(3, [&] { actions.fetch_add(1); });
  ThreadGroup group(3, [&](int) {
    for (int cycle = 1; cycle <= 4; ++cycle) {
      barrier.wait();
      if (actions.load() < cycle) released_before_action = true;
    }
  });
  group.join();
  EXPECT_EQ(actions.load(), 4);
  EXPECT_FALSE(released_before_action.load());
}

// covers BAR-04
TEST(Barrier, FailingActionBreaksIt) {
  Barrier barrier(3, [] { throw std::runtime_error("action failed"); });
  std::atomic<int> broken{0}, action_error{0};
  ThreadGroup group(3, [&](int) {
    try {
      barrier.wait();
    } catch (const BrokenBarrierError&) {
      broken.fetch_add(1);
    } catch (const std::runtime_error&) {
      action_error.fetch_add(1);
    }
  });
  group.join();
  EXPECT_EQ(action_error.load(), 1);
  EXPECT_EQ(broken.load(), 2);
  EXPECT_TRUE(barrier.broken());
}

// covers BAR-05
TEST(Barrier, AbortBreaksCurrentAndLaterWaits) {
  Barrier barrier(3);
  std::atomic<int> broken{0};
  ThreadGroup group(2, [&](int) {
    try {
      barrier.wait();
    } catch (const BrokenBarrierError&) {
      broken.fetch_add(1);
    }
  });
  ASSERT_TRUE(eventually([&] { return barrier.n_waiting() == 2; }));
  barrier.abort();
  group.join();
  EXPECT_EQ(broken.load(), 2);
  EXPECT_TRUE(barrier.broken());
  pyconc::testing::Stopwatch sw;
  EXPECT_THROW(barrier.wait(), BrokenBarrierError);
  EXPECT_LT(sw.elapsed().count(), 2.0);
}

// covers BAR-06
TEST(Barrier, ResetBreaksCurrentWaitersThenWorks) {
  Barrier barrier(3);
  std::atomic<int> broken{0};
  {
    ThreadGroup group(2, [&](int) {
      try {
        barrier.wait();
      } catch (const BrokenBarrierError&) {
        broken.fetch_add(1);
      }
    });
    ASSERT_TRUE(eventually([&] { return barrier.n_waiting() == 2; }));
    barrier.reset();
    group.join();
  }
  EXPECT_EQ(broken.load(), 2);
  EXPECT_FALSE(barrier.broken());
  ThreadGroup full(3, [&](int) { barrier.wait(); });
  full.join();
  EXPECT_FALSE(barrier.broken());
}

// covers BAR-07
TEST(Barrier, ResetAfterAbort) {
  Barrier barrier(2);
  barrier.abort();
  EXPECT_THROW(barrier.wait(), BrokenBarrierError);
  barrier.reset();
  EXPECT_FALSE(barrier.broken());
  ThreadGroup full(2, [&](int) { barrier.wait(); });
  full.join();
}

// covers BAR-08
TEST(Barrier, TimeoutBreaksForEveryone) {
  Barrier barrier(3);
  std::atomic<int> broken{0};
  Stopwatch sw;
  ThreadGroup group(2, [&](int id) {
    try {
      if (id == 0) barrier.wait(200ms);
      else barrier.wait();
    } catch (const BrokenBarrierError&) {
      broken.fetch_add(1);
    }
  });
  group.join();
  expect_timed_wait(sw.elapsed(), 200ms);
  EXPECT_EQ(broken.load(), 2);
  EXPECT_THROW(barrier.wait(), BrokenBarrierError);  // the late third party
}

// covers BAR-09
TEST(Barrier, ConstructorTimeoutIsTheDefault) {
  Barrier barrier(2, {}, 150ms);
  Stopwatch sw;
  EXPECT_THROW(barrier.wait(), BrokenBarrierError);
  expect_timed_wait(sw.elapsed(), 150ms);
}

// covers BAR-10
TEST(Barrier, SinglePartyNeverBlocks) {
  Barrier barrier(1);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(barrier.wait(), 0);
}

// covers BAR-11
TEST(Barrier, NWaitingAndParties) {
  Barrier barrier(3);
  EXPECT_EQ(barrier.parties(), 3);
  EXPECT_EQ(barrier.n_waiting(), 0);
  ThreadGroup group(2, [&](int) { barrier.wait(); });
  ASSERT_TRUE(eventually([&] { return barrier.n_waiting() == 2; }));
  barrier.wait();
  group.join();
  EXPECT_EQ(barrier.n_waiting(), 0);
  barrier.abort();
  EXPECT_EQ(barrier.n_waiting(), 0);
}

// covers BAR-12
TEST(Barrier, BrokenBarrierErrorIsRuntimeErrorAndLateArrivalsWaitForNextCycle) {
  EXPECT_TRUE((std::is_base_of_v<pyconc::RuntimeError, BrokenBarrierError>));
  // Threads that loop straight back into wait() while others drain must land in the next
  // cycle, never mix with the draining one: indices stay distinct per cycle.
  constexpr int kParties = 3, kCycles = 200;
  Barrier barrier(kParties);
  std::atomic<int> index_sum[kCycles] = {};
  ThreadGroup group(kParties, [&](int) {
    for (int c = 0; c < kCycles; ++c) index_sum[c].fetch_add(static_cast<int>(barrier.wait()));
  });
  group.join();
  for (auto& sum : index_sum) EXPECT_EQ(sum.load(), 0 + 1 + 2);
}

// covers BAR-13
TEST(Barrier, PartiesMustBePositive) {
  EXPECT_THROW(Barrier(0), pyconc::ValueError);
  EXPECT_THROW(Barrier(-3), pyconc::ValueError);
}

}  // namespace
