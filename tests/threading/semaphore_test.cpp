#include <mutex>

#include "support.hpp"

namespace {

using namespace pyconc::testing;
using pyconc::threading::BoundedSemaphore;
using pyconc::threading::Semaphore;
using pyconc::threading::Thread;

// covers SEM-01
TEST(Semaphore, ConstructorChecks) {
  EXPECT_THROW(Semaphore(-1), pyconc::ValueError);
  EXPECT_THROW(BoundedSemaphore(-1), pyconc::ValueError);
  Semaphore by_default;
  EXPECT_EQ(by_default.value(), 1);
}

// covers SEM-02
TEST(Semaphore, NonBlockingAcquire) {
  Semaphore sem(2);
  EXPECT_TRUE(sem.acquire(false));
  EXPECT_TRUE(sem.acquire(false));
  EXPECT_FALSE(sem.acquire(false));
  sem.release();
  EXPECT_TRUE(sem.acquire(false));
}

// covers SEM-03
TEST(Semaphore, NonBlockingContention) {
  Semaphore sem(4);
  sem.acquire();
  std::atomic<int> ok{0}, failed{0};
  ThreadGroup group(5, [&](int) {
    for (int i = 0; i < 2; ++i) (sem.acquire(false) ? ok : failed).fetch_add(1);
  });
  group.join();
  EXPECT_EQ(ok.load(), 3);
  EXPECT_EQ(failed.load(), 7);
}

// covers SEM-04
TEST(Semaphore, NonBlockingWithTimeoutIsValueError) {
  Semaphore sem;
  EXPECT_THROW(sem.acquire(false, 1s), pyconc::ValueError);
}

// covers SEM-05
TEST(Semaphore, TimedAcquire) {
  Semaphore sem(1);
  EXPECT_TRUE(sem.acquire(true, 5s));
  Stopwatch sw;
  EXPECT_FALSE(sem.acquire(true, 300ms));
  expect_timed_wait(sw.elapsed(), 300ms);
  Stopwatch instant;
  EXPECT_FALSE(sem.acquire(true, 0s));
  EXPECT_FALSE(sem.acquire(true, -1s));
  EXPECT_LT(instant.elapsed().count(), 2.0);
}

// covers SEM-06
TEST(Semaphore, EachReleaseLetsExactlyOneThrough) {
  Semaphore sem(0);
  std::atomic<int> through{0};
  ThreadGroup group(6, [&](int) {
    sem.acquire();
    through.fetch_add(1);
  });
  for (int k = 1; k <= 6; ++k) {
    sem.release();
    ASSERT_TRUE(eventually([&] { return through.load() == k; }));
    std::this_thread::sleep_for(5ms);
    EXPECT_EQ(through.load(), k);
    EXPECT_EQ(sem.value(), 0);
  }
  group.join();
}

// covers SEM-07
TEST(Semaphore, MultiRelease) {
  Semaphore sem(0);
  std::atomic<int> through{0};
  ThreadGroup group(3, [&](int) {
    sem.acquire();
    through.fetch_add(1);
  });
  sem.release(3);
  group.join();
  EXPECT_EQ(through.load(), 3);
  EXPECT_THROW(sem.release(0), pyconc::ValueError);
  EXPECT_THROW(sem.release(-2), pyconc::ValueError);
}

// covers SEM-08
TEST(Semaphore, PlainSemaphoreGrowsPastInitialValue) {
  Semaphore sem(1);
  sem.release();
  sem.release(3);
  EXPECT_EQ(sem.value(), 5);
}

// covers SEM-09
TEST(Semaphore, ScopedLockReleasesOnThrow) {
  Semaphore sem(1);
  try {
    std::scoped_lock hold(sem);
    EXPECT_EQ(sem.value(), 0);
    throw std::runtime_error("x");
  } catch (const std::runtime_error&) {
  }
  EXPECT_EQ(sem.value(), 1);
}

// covers BSEM-01
TEST(BoundedSemaphore, OverReleaseIsValueError) {
  BoundedSemaphore sem(2);
  EXPECT_THROW(sem.release(), pyconc::ValueError);
  sem.acquire();
  bool threw = false;
  Thread t([&] {
    sem.release();  // another thread may release
    try {
      sem.release();
    } catch (const pyconc::ValueError&) {
      threw = true;
    }
  });
  t.start();
  t.join();
  EXPECT_TRUE(threw);
}

// covers BSEM-02
TEST(BoundedSemaphore, MultiReleaseCheckedAtOnce) {
  BoundedSemaphore sem(3);
  sem.acquire();
  sem.acquire();
  EXPECT_THROW(sem.release(3), pyconc::ValueError);
  EXPECT_EQ(sem.value(), 1);
  sem.release(2);
  EXPECT_EQ(sem.value(), 3);
}

// covers BSEM-03
TEST(BoundedSemaphore, NeverMoreThanLimitInside) {
  BoundedSemaphore sem(3);
  std::atomic<int> inside{0}, max_inside{0};
  ThreadGroup group(10, [&](int id) {
    std::minstd_rand rng(id);
    for (int i = 0; i < 300; ++i) {
      std::scoped_lock hold(sem);
      const int now = inside.fetch_add(1) + 1;
      int seen = max_inside.load();
      while (now > seen && !max_inside.compare_exchange_weak(seen, now)) {}
      jitter(rng);
      inside.fetch_sub(1);
    }
  });
  group.join();
  EXPECT_LE(max_inside.load(), 3);
  EXPECT_GE(max_inside.load(), 1);
  EXPECT_EQ(sem.value(), 3);
}

TEST(Semaphore, StressTimedAndBlockingAcquiresConserveUnits) {
  Semaphore sem(2);
  std::atomic<int> inside{0};
  std::atomic<bool> violated{false};
  ThreadGroup group(6, [&](int id) {
    std::minstd_rand rng(id);
    for (int i = 0; i < 3000; ++i) {
      bool got = true;
      switch (rng() % 3) {
        case 0: got = sem.acquire(); break;
        case 1: got = sem.acquire(false); break;
        default: got = sem.acquire(true, std::chrono::microseconds(rng() % 200)); break;
      }
      if (!got) continue;
      if (inside.fetch_add(1) >= 2) violated = true;
      jitter(rng);
      inside.fetch_sub(1);
      sem.release();
    }
  });
  group.join();
  EXPECT_FALSE(violated.load());
  EXPECT_EQ(sem.value(), 2);
}

}  // namespace
