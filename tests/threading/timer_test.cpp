#include "support.hpp"

namespace {

using namespace pyconc::testing;
using pyconc::threading::Event;
using pyconc::threading::Timer;

// covers TIM-01
TEST(Timer, CallsOnceAfterInterval) {
  std::atomic<int> calls{0};
  int got = 0;
  Stopwatch sw;
  Seconds fired_at{};
  Timer t(200ms, [&](int x) {
    got = x;
    fired_at = sw.elapsed();
    calls.fetch_add(1);
  }, 7);
  t.start();
  t.join();
  EXPECT_EQ(calls.load(), 1);
  EXPECT_EQ(got, 7);
  expect_timed_wait(fired_at, 200ms);
}

// covers TIM-02
TEST(Timer, ArgumentsAreOwnedPerTimer) {
  std::vector<int> shared{1};
  std::vector<int> seen_a, seen_b;
  Timer a(1ms, [&](std::vector<int> v) { seen_a = v; }, shared);
  shared.push_back(2);  // changing the caller's copy affects neither timer
  Timer b(1ms, [&](std::vector<int> v) { seen_b = v; }, shared);
  a.start();
  b.start();
  a.join();
  b.join();
  EXPECT_EQ(seen_a, (std::vector<int>{1}));
  EXPECT_EQ(seen_b, (std::vector<int>{1, 2}));
}

// covers TIM-03
TEST(Timer, CancelPreventsCallAndEndsPromptly) {
  std::atomic<int> calls{0};
  Timer t(60s, [&] { calls.fetch_add(1); });
  t.start();
  Stopwatch sw;
  t.cancel();
  t.join();
  EXPECT_LT(sw.elapsed().count(), 30.0);
  EXPECT_FALSE(t.is_alive());
  EXPECT_EQ(calls.load(), 0);
}

// covers TIM-04
TEST(Timer, CancelAfterFiringHasNoEffect) {
  Event inside, finish;
  std::atomic<int> calls{0};
  Timer t(1ms, [&] {
    inside.set();
    finish.wait();
    calls.fetch_add(1);
  });
  t.start();
  inside.wait();
  t.cancel();  // while it runs
  finish.set();
  t.join();
  t.cancel();  // after it ran
  EXPECT_EQ(calls.load(), 1);
}

}  // namespace
