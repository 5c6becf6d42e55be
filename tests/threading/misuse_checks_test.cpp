// The misuse C++ cannot report as an exception, caught by the debug and sanitizer builds'
// checks (PYCONC_ASSERT): destroying a primitive while another thread waits on it. Python's
// garbage collector cannot destroy an object a waiter still refers to; C++ can, and the
// waiter would then wake into freed memory. Destroying a held Lock nobody waits for stays
// harmless (LOCK-13, tested in lock_test.cpp).
#include <memory>
#include <sstream>

#include "pyconc/detail/assert.hpp"
#include "pyconc/queue.hpp"
#include "parked.hpp"
#include "support.hpp"

namespace {

using namespace pyconc::testing;
using pyconc::threading::Lock;
using pyconc::threading::Thread;

void wait_until_parked(const Thread& t) { pyconc::testing::wait_until_parked(*t.native_id()); }

class MisuseChecks : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!PYCONC_CHECKS_ENABLED) GTEST_SKIP() << "checks are compiled out of release builds";
    GTEST_FLAG_SET(death_test_style, "threadsafe");
  }
};

TEST_F(MisuseChecks, LockDestroyedWhileAThreadWaitsForIt) {
  EXPECT_DEATH(
      {
        auto lock = std::make_unique<Lock>();
        lock->acquire();
        Thread waiter([&] { lock->acquire(); });
        waiter.start();
        wait_until_parked(waiter);
        lock.reset();
      },
      "a Lock is destroyed while threads wait for it");
}

TEST_F(MisuseChecks, QueueDestroyedWithABlockedGetter) {
  EXPECT_DEATH(
      {
        auto q = std::make_unique<pyconc::queue::Queue<int>>();
        Thread getter([&] { q->get(); });
        getter.start();
        wait_until_parked(getter);
        q.reset();
      },
      "destroyed while threads wait on it");
}

}  // namespace
