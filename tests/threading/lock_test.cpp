#include <mutex>

#include "support.hpp"

namespace {

using namespace pyconc::testing;
using pyconc::threading::Event;
using pyconc::threading::Lock;
using pyconc::threading::Thread;

// Run the generic lock behaviours for Lock, RLock and Condition-as-a-lock (RLOCK-06).
template <class L>
class GenericLockTest : public ::testing::Test {};
using LockTypes = ::testing::Types<Lock, pyconc::threading::RLock, pyconc::threading::Condition>;
TYPED_TEST_SUITE(GenericLockTest, LockTypes);

// covers LOCK-01, RLOCK-06
TYPED_TEST(GenericLockTest, AcquireOnFreeLockSucceeds) {
  TypeParam lock;
  EXPECT_TRUE(lock.acquire());
  lock.release();
  EXPECT_TRUE(lock.acquire(false));
  lock.release();
}

// covers LOCK-02, RLOCK-06
TYPED_TEST(GenericLockTest, NonBlockingAcquireFromOtherThreadFailsWhileHeld) {
  TypeParam lock;
  lock.acquire();
  bool got = true;
  Thread t([&] { got = lock.acquire(false); });
  t.start();
  t.join();
  EXPECT_FALSE(got);
  lock.release();
}

// covers LOCK-03, RLOCK-06
TYPED_TEST(GenericLockTest, ContendedAcquirersAllGetThroughAfterRelease) {
  TypeParam lock;
  lock.acquire();
  std::atomic<int> started{0}, finished{0};
  ThreadGroup group(5, [&](int) {
    started.fetch_add(1);
    lock.acquire();
    finished.fetch_add(1);
    lock.release();
  });
  ASSERT_TRUE(eventually([&] { return started.load() == 5 && all_sleeping(group); }));
  EXPECT_EQ(finished.load(), 0);  // all still blocked
  lock.release();
  group.join();
  EXPECT_EQ(finished.load(), 5);
}

// covers LOCK-04, RLOCK-06
TYPED_TEST(GenericLockTest, ScopedLockReleasesEvenWhenBodyThrows) {
  TypeParam lock;
  try {
    std::scoped_lock hold(lock);
    throw std::logic_error("boom");
  } catch (const std::logic_error& e) {
    EXPECT_STREQ(e.what(), "boom");
  }
  bool got = false;
  Thread t([&] {
    got = lock.acquire(false);
    if (got) lock.release();
  });
  t.start();
  t.join();
  EXPECT_TRUE(got);
}

// covers LOCK-05, RLOCK-06
TYPED_TEST(GenericLockTest, NonBlockingWithTimeoutIsValueError) {
  TypeParam lock;
  EXPECT_THROW(lock.acquire(false, 1s), pyconc::ValueError);
}

// covers LOCK-06, LOCK-07, RLOCK-06
TYPED_TEST(GenericLockTest, TimeoutRangeChecks) {
  TypeParam lock;
  EXPECT_THROW(lock.acquire(true, -100s), pyconc::ValueError);
  EXPECT_THROW(lock.acquire(true, std::chrono::duration<double>(-0.5)), pyconc::ValueError);
  EXPECT_THROW(lock.acquire(true, std::chrono::duration<double>(1e100)), pyconc::OverflowError);
  EXPECT_THROW(lock.acquire(true, pyconc::TIMEOUT_MAX + 1s), pyconc::OverflowError);
  EXPECT_TRUE(lock.acquire(true, pyconc::TIMEOUT_MAX));
  lock.release();
  EXPECT_TRUE(lock.acquire(true, -1s));  // Python's -1: wait forever
  lock.release();
}

// covers LOCK-08, RLOCK-06
TYPED_TEST(GenericLockTest, TimedAcquire) {
  TypeParam lock;
  Stopwatch fast;
  EXPECT_TRUE(lock.acquire(true, 5s));
  EXPECT_LT(fast.elapsed().count(), 4.0);
  bool got = true;
  Seconds took{};
  Thread t([&] {
    Stopwatch sw;
    got = lock.acquire(true, 500ms);
    took = sw.elapsed();
  });
  t.start();
  t.join();
  EXPECT_FALSE(got);
  expect_timed_wait(took, 500ms);
  lock.release();
}

// covers LOCK-09
TEST(Lock, StateIntactAfterTimedOutAcquire) {
  Lock lock;
  lock.acquire();
  Thread t([&] { EXPECT_FALSE(lock.acquire(true, 10ms)); });
  t.start();
  t.join();
  lock.release();
  EXPECT_FALSE(lock.locked());
  EXPECT_TRUE(lock.acquire(false));
  lock.release();
}

// covers LOCK-10
TEST(Lock, NotReentrant) {
  Lock lock;
  lock.acquire();
  EXPECT_FALSE(lock.acquire(false));
  Thread releaser([&] {
    std::this_thread::sleep_for(20ms);
    lock.release();
  });
  releaser.start();
  EXPECT_TRUE(lock.acquire());  // our second acquire blocks until the other thread releases
  releaser.join();
  lock.release();
}

// covers LOCK-11
TEST(Lock, ReleasedByAnotherThread) {
  Lock lock;
  lock.acquire();
  Thread t([&] { lock.release(); });
  t.start();
  t.join();
  EXPECT_FALSE(lock.locked());
}

// covers LOCK-12
TEST(Lock, ReleaseUnlockedIsRuntimeError) {
  Lock lock;
  EXPECT_THROW(lock.release(), pyconc::RuntimeError);
  lock.acquire();
  lock.release();
  EXPECT_THROW(lock.unlock(), pyconc::RuntimeError);
}

// covers LOCK-13
TEST(Lock, DestroyedWhileHeld) {
  auto lock = std::make_unique<Lock>();
  lock->acquire();
  lock.reset();
  SUCCEED();
}

TEST(Lock, IsOneByteAndLockable) {
  static_assert(sizeof(Lock) == 1);
  Lock lock;
  std::unique_lock hold(lock);
  EXPECT_TRUE(lock.locked());
  hold.unlock();
  EXPECT_FALSE(lock.locked());
}

// Eventual fairness: once a waiter has been parked for over a millisecond, release() hands
// the lock to it directly, so the releasing thread cannot barge straight back in. The waiter
// keeps the lock until main has tried to take it: a try_lock that succeeds then can only be
// a barge, never the waiter having already come and gone on the other core.
TEST(Lock, LongParkedWaiterIsHandedTheLock) {
  for (int round = 0; round < 5; ++round) {
    Lock lock;
    lock.acquire();
    std::atomic<bool> waiter_got{false};
    pyconc::threading::Event acquiring, main_tried;
    Thread waiter([&] {
      acquiring.set();  // past here, the only place to sleep is acquire()
      lock.acquire();
      waiter_got = true;
      main_tried.wait();
      lock.release();
    });
    waiter.start();
    acquiring.wait();
    ASSERT_TRUE(eventually([&] { return is_sleeping(waiter); }));  // parked in acquire()
    std::this_thread::sleep_for(5ms);
    lock.release();
    const bool barged = lock.try_lock();
    main_tried.set();
    if (barged) lock.release();
    waiter.join();
    EXPECT_FALSE(barged) << "round " << round;
    EXPECT_TRUE(waiter_got.load());
  }
}

// Mutual exclusion under heavy contention with random pauses: no increment is lost, and
// timed and non-blocking acquires mixed in never break the lock.
TEST(Lock, StressMutualExclusion) {
  Lock lock;
  long counter = 0;
  std::atomic<long> timed_out{0};
  constexpr int kThreads = 6, kIters = 20000;
  ThreadGroup group(kThreads, [&](int id) {
    std::minstd_rand rng(id + 1);
    for (int i = 0; i < kIters; ++i) {
      const int mode = rng() % 4;
      bool got = true;
      if (mode == 0) got = lock.acquire(true, std::chrono::microseconds(rng() % 100));
      else if (mode == 1) got = lock.acquire(false);
      else lock.acquire();
      if (!got) {
        timed_out.fetch_add(1);
        --i;
        continue;
      }
      const long seen = counter;
      jitter(rng);
      counter = seen + 1;
      lock.release();
    }
  });
  group.join();
  EXPECT_EQ(counter, long{kThreads} * kIters);
  EXPECT_FALSE(lock.locked());
}

}  // namespace
