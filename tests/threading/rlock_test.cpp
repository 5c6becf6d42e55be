#include "support.hpp"

namespace {

using namespace pyconc::testing;
using pyconc::threading::RLock;
using pyconc::threading::Thread;

// covers RLOCK-01
TEST(RLock, ReacquireNeedsMatchingReleases) {
  RLock lock;
  lock.acquire();
  lock.acquire();
  lock.acquire();
  lock.release();
  lock.release();
  bool got = true;
  Thread t([&] { got = lock.acquire(false); });
  t.start();
  t.join();
  EXPECT_FALSE(got);  // still held once
  lock.release();
  Thread t2([&] {
    got = lock.acquire(false);
    if (got) lock.release();
  });
  t2.start();
  t2.join();
  EXPECT_TRUE(got);
}

// covers RLOCK-02
TEST(RLock, ReleaseUnacquiredIsRuntimeError) {
  RLock lock;
  EXPECT_THROW(lock.release(), pyconc::RuntimeError);
  lock.acquire();
  lock.acquire();
  lock.release();
  lock.release();
  EXPECT_THROW(lock.release(), pyconc::RuntimeError);
}

// covers RLOCK-03
TEST(RLock, ReleaseByNonOwnerIsRuntimeError) {
  RLock lock;
  lock.acquire();
  bool threw = false;
  Thread t([&] {
    try {
      lock.release();
    } catch (const pyconc::RuntimeError&) {
      threw = true;
    }
  });
  t.start();
  t.join();
  EXPECT_TRUE(threw);
  lock.release();
}

// covers RLOCK-04
TEST(RLock, RecursionCount) {
  RLock lock;
  EXPECT_EQ(lock.recursion_count(), 0u);
  lock.acquire();
  EXPECT_EQ(lock.recursion_count(), 1u);
  lock.acquire();
  EXPECT_EQ(lock.recursion_count(), 2u);
  std::uint64_t seen_elsewhere = 99;
  Thread t([&] { seen_elsewhere = lock.recursion_count(); });
  t.start();
  t.join();
  EXPECT_EQ(seen_elsewhere, 0u);
  lock.release();
  EXPECT_EQ(lock.recursion_count(), 1u);
  lock.release();
  EXPECT_EQ(lock.recursion_count(), 0u);
}

// covers RLOCK-05
TEST(RLock, IsOwned) {
  RLock lock;
  EXPECT_FALSE(lock.is_owned());
  lock.acquire();
  EXPECT_TRUE(lock.is_owned());
  lock.acquire();
  EXPECT_TRUE(lock.is_owned());
  bool owned_elsewhere = true;
  Thread t([&] { owned_elsewhere = lock.is_owned(); });
  t.start();
  t.join();
  EXPECT_FALSE(owned_elsewhere);
  lock.release();
  lock.release();
  EXPECT_FALSE(lock.is_owned());
}

TEST(RLock, StressNestedAcquires) {
  RLock lock;
  long counter = 0;
  ThreadGroup group(4, [&](int id) {
    std::minstd_rand rng(id);
    for (int i = 0; i < 5000; ++i) {
      std::scoped_lock outer(lock);
      std::scoped_lock inner(lock);
      const long seen = counter;
      jitter(rng);
      counter = seen + 1;
    }
  });
  group.join();
  EXPECT_EQ(counter, 20000);
}

}  // namespace
