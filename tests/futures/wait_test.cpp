#include "pyconc/futures.hpp"
#include "support.hpp"

namespace {

using namespace pyconc::testing;
using pyconc::futures::Future;
using pyconc::futures::FutureBase;
namespace futures = pyconc::futures;
using pyconc::threading::Thread;

Future<int> done_with(int v) {
  Future<int> f;
  f.set_result(v);
  return f;
}
Future<int> failed_future() {
  Future<int> f;
  f.set_exception(std::make_exception_ptr(pyconc::ValueError("x")));
  f.exception();  // retrieved, so the test output stays quiet
  return f;
}
Future<int> cancelled_and_notified() {
  Future<int> f;
  f.cancel();
  f.set_running_or_notify_cancel();
  return f;
}

// Completes `f` with `v` after `delay`, from another thread.
struct LaterSetter {
  Thread thread;
  LaterSetter(Future<int> f, int v, std::chrono::milliseconds delay)
      : thread([f, v, delay] {
          std::this_thread::sleep_for(delay);
          f.set_result(v);
        }) {
    thread.start();
  }
  ~LaterSetter() { thread.join(); }
};

// covers WAIT-01
TEST(Wait, DuplicatesCollapse) {
  auto a = done_with(1);
  Future<int> b;
  auto [done, not_done] = futures::wait(std::vector{a, a, b, b}, 10ms);
  EXPECT_EQ(done.size(), 1u);
  EXPECT_EQ(not_done.size(), 1u);
  b.cancel();
}

// covers WAIT-02
TEST(Wait, FirstCompleted) {
  Future<int> slow, fast;
  LaterSetter set_fast(fast, 1, 30ms);
  auto [done, not_done] = futures::wait(std::vector{slow, fast}, 30s, futures::FIRST_COMPLETED);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0], fast);
  EXPECT_EQ(not_done.size(), 1u);
  // Already-done futures count at once.
  Stopwatch sw;
  auto r = futures::wait(std::vector{slow, done_with(2)}, 30s, futures::FIRST_COMPLETED);
  EXPECT_EQ(r.done.size(), 1u);
  EXPECT_LT(sw.elapsed().count(), 10.0);
  slow.cancel();
}

// covers WAIT-03
TEST(Wait, FirstException) {
  Future<int> pending, will_fail;
  Thread failer([&] {
    std::this_thread::sleep_for(30ms);
    will_fail.set_exception(std::make_exception_ptr(pyconc::ValueError("late")));
  });
  failer.start();
  auto [done, not_done] = futures::wait(std::vector{pending, will_fail}, 30s, futures::FIRST_EXCEPTION);
  failer.join();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0], will_fail);
  will_fail.exception();
  // An already-failed future returns at once; cancelled ones are not exceptions.
  auto r = futures::wait(std::vector{pending, failed_future()}, 30s, futures::FIRST_EXCEPTION);
  EXPECT_EQ(r.done.size(), 1u);
  auto no_failures = futures::wait(std::vector{cancelled_and_notified(), done_with(1)}, 30s,
                                   futures::FIRST_EXCEPTION);
  EXPECT_EQ(no_failures.done.size(), 2u);  // behaves like ALL_COMPLETED
  pending.cancel();
}

// covers WAIT-04
TEST(Wait, AllCompleted) {
  Future<int> a, b;
  LaterSetter sa(a, 1, 10ms);
  Thread canceller([&] {
    std::this_thread::sleep_for(20ms);
    b.cancel();
    b.set_running_or_notify_cancel();
  });
  canceller.start();
  auto [done, not_done] = futures::wait(std::vector{a, b, failed_future()});
  canceller.join();
  EXPECT_EQ(done.size(), 3u);
  EXPECT_TRUE(not_done.empty());
}

// covers WAIT-05
TEST(Wait, TimeoutReturnsNormally) {
  Future<int> never;
  Stopwatch sw;
  auto [done, not_done] = futures::wait(std::vector{never, done_with(1)}, 100ms);
  expect_timed_wait(sw.elapsed(), 100ms);
  EXPECT_EQ(done.size(), 1u);
  ASSERT_EQ(not_done.size(), 1u);
  EXPECT_EQ(not_done[0], never);
  EXPECT_THROW(futures::wait(std::vector{never}, 0s, static_cast<futures::ReturnWhen>(42)),
               pyconc::ValueError);
  never.cancel();
}

// covers WAIT-06
TEST(Wait, CancelledButNotNotifiedCountsAsNotDone) {
  Future<int> f;
  f.cancel();
  EXPECT_TRUE(f.done());
  auto r = futures::wait(std::vector{f}, 0s);
  EXPECT_TRUE(r.done.empty());
  EXPECT_EQ(r.not_done.size(), 1u);
  auto n = futures::wait(std::vector{cancelled_and_notified()}, 0s);
  EXPECT_EQ(n.done.size(), 1u);
}

TEST(Wait, MixedResultTypes) {
  Future<int> i;
  Future<std::string> s;
  Future<void> v;
  i.set_result(1);
  s.set_result(std::string("x"));
  v.set_result();
  std::vector<FutureBase> all{i, s, v};
  auto [done, not_done] = futures::wait(all);
  EXPECT_EQ(done.size(), 3u);
}

// covers ASC-01
TEST(AsCompleted, FinishedFirstThenInCompletionOrder) {
  Future<int> late, early;
  auto already = done_with(0);
  LaterSetter s1(early, 1, 20ms);
  LaterSetter s2(late, 2, 120ms);
  std::vector<int> order;
  for (auto& f : futures::as_completed(std::vector{late, early, already, already}))
    order.push_back(f.result());
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2}));
}

// covers ASC-02
TEST(AsCompleted, TimeoutMessageAndZeroTimeout) {
  Future<int> p1, p2;
  auto d = done_with(5);
  auto range = futures::as_completed(std::vector{p1, d, p2}, 0s);
  auto first = range.next();
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->result(), 5);
  try {
    range.next();
    FAIL() << "expected TimeoutError";
  } catch (const pyconc::TimeoutError& e) {
    EXPECT_STREQ(e.what(), "2 (of 3) futures unfinished");
  }
  // The timeout runs from the call.
  Stopwatch sw;
  auto timed = futures::as_completed(std::vector{p1}, 100ms);
  EXPECT_THROW(timed.next(), pyconc::TimeoutError);
  expect_timed_wait(sw.elapsed(), 100ms);
  p1.cancel();
  p2.cancel();
}

// covers ASC-03
TEST(AsCompleted, KeepsNoReferenceToYieldedFutures) {
  std::weak_ptr<pyconc::futures::detail::FutureStateBase> watch;
  Future<int> other;
  {
    std::vector<Future<int>> fs{done_with(1), other};
    watch = fs[0].shared_state();
    auto range = futures::as_completed(fs, 10ms);
    fs.clear();
    auto f = range.next();
    ASSERT_TRUE(f.has_value());
    f.reset();
    EXPECT_TRUE(watch.expired());  // only the range could still hold it, and it does not
    EXPECT_THROW(range.next(), pyconc::TimeoutError);
  }
  other.cancel();
}

TEST(AsCompleted, ManyFuturesFromManyThreads) {
  std::vector<Future<int>> fs(200);
  ThreadGroup setters(4, [&](int id) {
    for (int i = id; i < 200; i += 4) fs[i].set_result(i);
  });
  long sum = 0;
  int count = 0;
  for (auto& f : futures::as_completed(fs)) {
    sum += f.result();
    ++count;
  }
  EXPECT_EQ(count, 200);
  EXPECT_EQ(sum, 199 * 200 / 2);
}

}  // namespace
