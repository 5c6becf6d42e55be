#include <mutex>
#include <vector>

#include "support.hpp"

namespace {

using namespace pyconc::testing;
using pyconc::threading::Condition;
using pyconc::threading::Lock;
using pyconc::threading::RLock;
using pyconc::threading::Thread;

// covers COND-01
TEST(Condition, DefaultLockIsReentrant) {
  Condition cond;
  cond.acquire();
  EXPECT_TRUE(cond.acquire(false));
  cond.release();
  cond.release();
}

// covers COND-02
TEST(Condition, SharesTheGivenLock) {
  Lock lock;
  Condition cond(lock);
  cond.acquire();
  EXPECT_FALSE(lock.acquire(false));
  cond.release();
  lock.acquire();
  EXPECT_FALSE(cond.acquire(false));
  lock.release();
}

// covers COND-03
TEST(Condition, WaitWithoutLockIsRuntimeError) {
  Condition over_rlock;
  EXPECT_THROW(over_rlock.wait(), pyconc::RuntimeError);
  Lock lock;
  Condition over_lock(lock);
  EXPECT_THROW(over_lock.wait(10ms), pyconc::RuntimeError);
}

// covers COND-04
TEST(Condition, NotifyWithoutLockIsRuntimeError) {
  Condition cond;
  EXPECT_THROW(cond.notify(), pyconc::RuntimeError);
  EXPECT_THROW(cond.notify_all(), pyconc::RuntimeError);
}

// Starts n waiters; returns once all of them are parked (counted via the lock).
struct Waiters {
  Condition& cond;
  std::atomic<int> woken{0};
  std::atomic<int> returned_true{0};
  int waiting = 0;  // guarded by cond
  std::vector<int> wake_order;  // guarded by cond
  std::unique_ptr<ThreadGroup> group;

  Waiters(Condition& c, int n) : cond(c) {
    group = std::make_unique<ThreadGroup>(n, [this](int id) {
      std::scoped_lock hold(cond);
      ++waiting;
      if (cond.wait()) returned_true.fetch_add(1);
      wake_order.push_back(id);
      woken.fetch_add(1);
    });
  }
  void wait_until_all_parked(int n) {
    ASSERT_TRUE(eventually([&] {
      std::scoped_lock hold(cond);
      return waiting == n;
    }));
  }
};

// covers COND-05, COND-08
TEST(Condition, NotifyWakesExactlyN) {
  Condition cond;
  Waiters w(cond, 5);
  w.wait_until_all_parked(5);
  {
    std::scoped_lock hold(cond);
    cond.notify(2);
    std::this_thread::sleep_for(20ms);
    EXPECT_EQ(w.woken.load(), 0);  // woken, but cannot return before we release the lock
  }
  ASSERT_TRUE(eventually([&] { return w.woken.load() == 2; }));
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(w.woken.load(), 2);  // no spurious wake-ups for the other three
  {
    std::scoped_lock hold(cond);
    cond.notify(5);  // only 3 left: min(n, waiting)
  }
  w.group->join();
  EXPECT_EQ(w.woken.load(), 5);
  EXPECT_EQ(w.returned_true.load(), 5);
}

// covers COND-06
TEST(Condition, NotifyAllWakesEveryWaiter) {
  Condition cond;
  Waiters w(cond, 6);
  w.wait_until_all_parked(6);
  {
    std::scoped_lock hold(cond);
    cond.notify_all();
  }
  w.group->join();
  EXPECT_EQ(w.returned_true.load(), 6);
}

// covers COND-07
TEST(Condition, WaitersWakeInFifoOrder) {
  Lock lock;
  Condition cond(lock);
  std::vector<int> order;
  int parked = 0;
  std::vector<std::unique_ptr<Thread>> threads;
  for (int id = 0; id < 5; ++id) {
    threads.push_back(std::make_unique<Thread>([&, id] {
      std::scoped_lock hold(cond);
      ++parked;
      cond.wait();
      order.push_back(id);
    }));
    threads.back()->start();
    // Start the next waiter only once this one is queued, so arrival order is known.
    ASSERT_TRUE(eventually([&] {
      std::scoped_lock hold(cond);
      return parked == id + 1;
    }));
  }
  for (int i = 0; i < 5; ++i) {
    {
      std::scoped_lock hold(cond);
      cond.notify();
    }
    ASSERT_TRUE(eventually([&] {
      std::scoped_lock hold(cond);
      return static_cast<int>(order.size()) == i + 1;
    }));
  }
  for (auto& t : threads) t->join();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
}

// covers COND-09
TEST(Condition, WaitTimesOutAndHoldsLockAgain) {
  Lock lock;
  Condition cond(lock);
  std::scoped_lock hold(cond);
  Stopwatch sw;
  EXPECT_FALSE(cond.wait(200ms));
  expect_timed_wait(sw.elapsed(), 200ms);
  EXPECT_TRUE(lock.locked());
  EXPECT_FALSE(lock.acquire(false));
}

// covers COND-10
TEST(Condition, ZeroOrNegativeWaitReturnsFalseAtOnce) {
  Condition cond;
  std::scoped_lock hold(cond);
  Stopwatch sw;
  EXPECT_FALSE(cond.wait(0s));
  EXPECT_FALSE(cond.wait(-5s));
  EXPECT_LT(sw.elapsed().count(), 2.0);
}

// covers COND-11
TEST(Condition, WaitForReturnsPredicateValue) {
  Condition cond;
  int state = 0;
  int checks = 0;
  Thread t([&] {
    for (int i = 0; i < 4; ++i) {
      std::this_thread::sleep_for(5ms);
      std::scoped_lock hold(cond);
      ++state;
      cond.notify();
    }
  });
  t.start();
  int result = 0;
  {
    std::scoped_lock hold(cond);
    result = cond.wait_for([&] {
      ++checks;
      return state == 4 ? 42 : 0;
    });
  }
  t.join();
  EXPECT_EQ(result, 42);  // looped over wake-ups until the predicate held
  EXPECT_GE(checks, 1);
  // Checked before waiting: an already-true predicate returns with nobody to notify.
  std::scoped_lock hold(cond);
  EXPECT_EQ(cond.wait_for([] { return 7; }), 7);
}

// covers COND-12
TEST(Condition, WaitForTimeoutLimitsTheTotalWait) {
  Condition cond;
  std::atomic<bool> stop{false};
  // A notifier that keeps waking us well within each wait: the total still ends on time.
  Thread notifier([&] {
    while (!stop.load()) {
      std::this_thread::sleep_for(20ms);
      std::scoped_lock hold(cond);
      cond.notify();
    }
  });
  notifier.start();
  Stopwatch sw;
  int result = -1;
  {
    std::scoped_lock hold(cond);
    result = cond.wait_for([] { return 0; }, 300ms);
  }
  const auto took = sw.elapsed();
  stop = true;
  notifier.join();
  EXPECT_EQ(result, 0);
  expect_timed_wait(took, 300ms);
}

// covers COND-13
TEST(Condition, WaitRestoresFullRecursionDepth) {
  RLock lock;
  Condition cond(lock);
  lock.acquire();
  lock.acquire();
  bool other_got_lock = false;
  Thread t([&] {
    std::scoped_lock hold(cond);  // possible only if wait() released both levels
    other_got_lock = true;
    cond.notify();
  });
  t.start();
  EXPECT_TRUE(cond.wait(30s));
  EXPECT_TRUE(other_got_lock);
  EXPECT_EQ(lock.recursion_count(), 2u);
  lock.release();
  lock.release();
  t.join();
}

// A bounded buffer with two Conditions on one Lock, many producers and consumers with
// random pauses: every item arrives exactly once.
TEST(Condition, StressTwoConditionsOneLock) {
  Lock lock;
  Condition not_full(lock), not_empty(lock);
  std::vector<int> buffer;
  std::vector<int> seen(40000, 0);
  constexpr int kProducers = 4, kPerProducer = 10000;
  ThreadGroup producers(kProducers, [&](int id) {
    std::minstd_rand rng(id);
    for (int i = 0; i < kPerProducer; ++i) {
      std::scoped_lock hold(not_full);
      not_full.wait_for([&] { return buffer.size() < 8; });
      buffer.push_back(id * kPerProducer + i);
      not_empty.notify();
      if (rng() % 64 == 0) jitter(rng);
    }
  });
  ThreadGroup consumers(kProducers, [&](int id) {
    std::minstd_rand rng(id + 100);
    for (int i = 0; i < kPerProducer; ++i) {
      std::scoped_lock hold(not_empty);
      not_empty.wait_for([&] { return !buffer.empty(); });
      seen[buffer.back()]++;
      buffer.pop_back();
      not_full.notify();
      if (rng() % 64 == 0) jitter(rng);
    }
  });
  producers.join();
  consumers.join();
  for (int count : seen) ASSERT_EQ(count, 1);
}

}  // namespace
