#include "support.hpp"

namespace {

using namespace pyconc::testing;
using pyconc::threading::Event;

// covers EV-01
TEST(Event, FlagSetAndClear) {
  Event ev;
  EXPECT_FALSE(ev.is_set());
  ev.set();
  ev.set();
  EXPECT_TRUE(ev.is_set());
  ev.clear();
  ev.clear();
  EXPECT_FALSE(ev.is_set());
}

// covers EV-02
TEST(Event, SetWakesEveryWaiter) {
  Event ev;
  std::atomic<int> started{0}, returned_true{0};
  ThreadGroup group(5, [&](int) {
    started.fetch_add(1);
    if (ev.wait()) returned_true.fetch_add(1);
  });
  ASSERT_TRUE(eventually([&] { return started.load() == 5; }));
  ev.set();
  group.join();
  EXPECT_EQ(returned_true.load(), 5);
  Stopwatch sw;
  EXPECT_TRUE(ev.wait());
  EXPECT_TRUE(ev.wait(10s));
  EXPECT_LT(sw.elapsed().count(), 2.0);
}

// covers EV-03
TEST(Event, Timeouts) {
  Event ev;
  Stopwatch instant;
  EXPECT_FALSE(ev.wait(0s));
  EXPECT_LT(instant.elapsed().count(), 2.0);
  Stopwatch sw;
  EXPECT_FALSE(ev.wait(500ms));
  expect_timed_wait(sw.elapsed(), 500ms);
  ev.set();
  EXPECT_TRUE(ev.wait(500ms));
}

// covers EV-04
TEST(Event, SetThenClearStillWakesAllCurrentWaiters) {
  Event ev;
  std::atomic<int> started{0}, returned_true{0};
  ThreadGroup group(5, [&](int) {
    started.fetch_add(1);
    if (ev.wait()) returned_true.fetch_add(1);
  });
  ASSERT_TRUE(eventually([&] { return started.load() == 5 && all_sleeping(group); }));
  ev.set();
  ev.clear();
  group.join();
  EXPECT_EQ(returned_true.load(), 5);
  EXPECT_FALSE(ev.is_set());
}

// covers EV-05
TEST(Event, ReusableAfterClear) {
  Event ev;
  ev.set();
  ev.clear();
  EXPECT_FALSE(ev.wait(-1s));
  std::atomic<bool> returned{false};
  pyconc::threading::Thread t([&] {
    ev.wait();
    returned = true;
  });
  t.start();
  std::this_thread::sleep_for(30ms);
  EXPECT_FALSE(returned.load());
  ev.set();
  t.join();
  EXPECT_TRUE(returned.load());
}

TEST(Event, StressSetClearNeverLosesAWakeUp) {
  for (int round = 0; round < 200; ++round) {
    Event ev;
    std::atomic<int> done{0};
    ThreadGroup group(3, [&](int) {
      ev.wait();
      done.fetch_add(1);
    });
    if (round % 2) std::this_thread::yield();
    ev.set();
    group.join();
    ASSERT_EQ(done.load(), 3);
  }
}

}  // namespace
