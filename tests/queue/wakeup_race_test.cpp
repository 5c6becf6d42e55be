// A blocked getter or putter must never miss the put, get or shutdown() that should wake
// it, whichever way the queue waits: stepping aside (yields on) or parking at once (yields
// off, as on a machine whose cores other processes use). Found by the sanitizer build: with
// yields off, a getter dropped its lock, took it back and parked without looking at the
// queue again, sleeping through a shutdown() that came in between.
#include <random>

#include "pyconc/detail/spin.hpp"
#include "pyconc/queue.hpp"
#include "support.hpp"

namespace {

using namespace pyconc::testing;
using pyconc::queue::Queue;
using pyconc::queue::ShutDown;
using pyconc::threading::Event;
using pyconc::threading::Thread;

constexpr int kRounds = 10000;

// Each round: `prepare`, then a waiter runs `wait` while this thread runs `wake` at a
// random moment after the waiter has started; the waiter must end. A round does
// microseconds of work; one that lasts 10 s slept through a wake-up until a 20 s timeout
// (a timed wait that misses its wake-up still finds the item when it times out).
template <class Prepare, class Wait, class Wake>
void waiter_always_wakes(Prepare prepare, Wait wait, Wake wake) {
  std::mt19937 random(12345);
  for (int round = 0; round < kRounds; ++round) {
    prepare();
    const Stopwatch round_time;
    Event started, finished;
    Thread waiter({.daemon = true}, [&] {  // daemon: a stuck waiter cannot hang the exit
      started.set();
      wait();
      finished.set();
    });
    waiter.start();
    started.wait();
    for (int spin = static_cast<int>(random() % 2000); spin > 0; --spin) pyconc::detail::cpu_relax();
    wake();
    ASSERT_TRUE(finished.wait(30s)) << "the waiter missed its wake-up in round " << round;
    waiter.join();
    ASSERT_LT(round_time.elapsed().count(), 10.0) << "a wake-up was missed in round " << round;
  }
}

class WakeupRace : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    if (!GetParam()) pyconc::detail::pause_yields(std::chrono::hours(1));
  }
  void TearDown() override { pyconc::detail::pause_yields(std::chrono::nanoseconds(0)); }
};

TEST_P(WakeupRace, GetterWokenByShutdown) {
  std::unique_ptr<Queue<int>> q;
  waiter_always_wakes([&] { q = std::make_unique<Queue<int>>(); },
                      [&] { EXPECT_THROW(q->get(), ShutDown); }, [&] { q->shutdown(); });
}

TEST_P(WakeupRace, GetterWokenByPut) {
  Queue<int> q;
  waiter_always_wakes([] {}, [&] { EXPECT_EQ(q.get(), 7); }, [&] { q.put(7); });
}

TEST_P(WakeupRace, PutterWokenByGet) {
  Queue<int> q(1);
  waiter_always_wakes(
      [] {},
      [&] {
        q.put(1);
        q.put(2);  // blocks until the main thread takes 1
      },
      [&] {
        EXPECT_EQ(q.get(), 1);
        EXPECT_EQ(q.get(true, 20s), 2);  // both sides wait: the putter for room, we for 2
      });
}

INSTANTIATE_TEST_SUITE_P(YieldsOnAndOff, WakeupRace, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "YieldsOn" : "YieldsOff"; });

}  // namespace
