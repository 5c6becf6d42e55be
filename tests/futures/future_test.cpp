#include "pyconc/futures.hpp"
#include "support.hpp"

namespace {

using namespace pyconc::testing;
using pyconc::futures::CancelledError;
using pyconc::futures::Future;
using pyconc::futures::FutureBase;
using pyconc::futures::InvalidStateError;
using pyconc::threading::Thread;

Future<int> pending() { return Future<int>(); }
Future<int> running() {
  Future<int> f;
  f.set_running_or_notify_cancel();
  return f;
}
Future<int> cancelled() {
  Future<int> f;
  f.cancel();
  return f;
}
Future<int> succeeded(int v) {
  Future<int> f;
  f.set_result(v);
  return f;
}
Future<int> failed() {
  Future<int> f;
  f.set_exception(std::make_exception_ptr(pyconc::ValueError("boom")));
  return f;
}

// covers FUT-01
TEST(Future, States) {
  EXPECT_FALSE(pending().done());
  EXPECT_FALSE(pending().running());
  EXPECT_TRUE(running().running());
  EXPECT_FALSE(running().done());
  EXPECT_TRUE(cancelled().cancelled());
  EXPECT_TRUE(cancelled().done());
  EXPECT_TRUE(succeeded(1).done());
  EXPECT_FALSE(succeeded(1).cancelled());
  auto f = failed();
  EXPECT_TRUE(f.done());
  f.exception();
}

// covers FUT-02
TEST(Future, Cancel) {
  auto p = pending();
  EXPECT_TRUE(p.cancel());
  EXPECT_TRUE(p.cancelled());
  EXPECT_TRUE(p.cancel());  // already cancelled: still true
  auto r = running();
  EXPECT_FALSE(r.cancel());
  EXPECT_TRUE(r.running());
  auto s = succeeded(3);
  EXPECT_FALSE(s.cancel());
  EXPECT_EQ(s.result(), 3);
}

// covers FUT-03, FUT-10
TEST(Future, ResultWithZeroTimeout) {
  EXPECT_THROW(pending().result(0s), pyconc::TimeoutError);
  EXPECT_THROW(running().result(0s), pyconc::TimeoutError);
  EXPECT_THROW(cancelled().result(0s), CancelledError);
  EXPECT_THROW(failed().result(0s), pyconc::ValueError);
  EXPECT_EQ(succeeded(42).result(0s), 42);
  static_assert(std::is_base_of_v<pyconc::Error, CancelledError>);
  static_assert(std::is_base_of_v<pyconc::Error, InvalidStateError>);
}

// covers FUT-04
TEST(Future, ExceptionWithZeroTimeout) {
  EXPECT_THROW(pending().exception(0s), pyconc::TimeoutError);
  EXPECT_THROW(cancelled().exception(0s), CancelledError);
  auto e = failed().exception(0s);
  ASSERT_TRUE(e);
  try {
    std::rethrow_exception(e);
  } catch (const pyconc::ValueError& v) {
    EXPECT_STREQ(v.what(), "boom");
  }
  EXPECT_EQ(succeeded(1).exception(0s), nullptr);
}

// covers FUT-05
TEST(Future, ResultBlocksUntilSetOrCancelled) {
  Future<std::string> f;
  Thread setter([&] {
    std::this_thread::sleep_for(20ms);
    f.set_result(std::string("done"));
  });
  setter.start();
  EXPECT_EQ(f.result(), "done");
  setter.join();

  Future<int> c;
  Thread canceller([&] {
    std::this_thread::sleep_for(20ms);
    c.cancel();
  });
  canceller.start();
  EXPECT_THROW(c.result(), CancelledError);
  canceller.join();
  Stopwatch sw;
  EXPECT_THROW(pending().result(-1s), pyconc::TimeoutError);  // negative acts as 0
  EXPECT_LT(sw.elapsed().count(), 2.0);
  Stopwatch timed;
  EXPECT_THROW(pending().result(150ms), pyconc::TimeoutError);
  expect_timed_wait(timed.elapsed(), 150ms);
}

// covers FUT-06
TEST(Future, SecondOutcomeIsInvalidState) {
  auto s = succeeded(1);
  EXPECT_THROW(s.set_result(2), InvalidStateError);
  EXPECT_THROW(s.set_exception(std::make_exception_ptr(pyconc::ValueError())), InvalidStateError);
  EXPECT_EQ(s.result(), 1);
  auto c = cancelled();
  EXPECT_THROW(c.set_result(2), InvalidStateError);
  auto f = failed();
  EXPECT_THROW(f.set_result(2), InvalidStateError);
  EXPECT_THROW(f.result(), pyconc::ValueError);
}

// covers FUT-07
TEST(Future, DoneCallbacksInOrderInCompletingThread) {
  Future<int> f;
  std::vector<int> order;
  std::uint64_t callback_thread = 0;
  f.add_done_callback([&](const Future<int>& done) {
    order.push_back(done.result());
    callback_thread = pyconc::threading::get_ident();
  });
  f.add_done_callback([&](const FutureBase&) { order.push_back(2); });
  Thread completer([&] { f.set_result(1); });
  completer.start();
  completer.join();
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
  EXPECT_EQ(callback_thread, *completer.ident());
  // Already done: called at once, in the caller's thread.
  std::uint64_t immediate_thread = 0;
  f.add_done_callback([&](const FutureBase&) { immediate_thread = pyconc::threading::get_ident(); });
  EXPECT_EQ(immediate_thread, pyconc::threading::get_ident());
  // Fires on exception and on cancel too.
  int fired = 0;
  auto e = Future<int>();
  e.add_done_callback([&](const FutureBase&) { ++fired; });
  e.set_exception(std::make_exception_ptr(pyconc::ValueError()));
  e.exception();
  auto c = Future<int>();
  c.add_done_callback([&](const FutureBase& b) { fired += b.cancelled() ? 10 : 0; });
  c.cancel();
  EXPECT_EQ(fired, 11);
}

// covers FUT-08
TEST(Future, RaisingCallbackIsReportedAndOthersRun) {
  Future<int> f;
  bool later_ran = false;
  f.add_done_callback([](const FutureBase&) { throw pyconc::RuntimeError("callback broke"); });
  f.add_done_callback([&](const FutureBase&) { later_ran = true; });
  ::testing::internal::CaptureStderr();
  f.set_result(1);
  f.add_done_callback([](const FutureBase&) { throw pyconc::RuntimeError("late one broke"); });
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_TRUE(later_ran);
  EXPECT_NE(err.find("exception calling callback for <Future"), std::string::npos) << err;
  EXPECT_NE(err.find("RuntimeError: callback broke"), std::string::npos) << err;
  EXPECT_NE(err.find("RuntimeError: late one broke"), std::string::npos) << err;
}

// covers FUT-09
TEST(Future, SetRunningOrNotifyCancel) {
  auto p = pending();
  EXPECT_TRUE(p.set_running_or_notify_cancel());
  EXPECT_TRUE(p.running());
  auto c = cancelled();
  EXPECT_FALSE(c.set_running_or_notify_cancel());
  EXPECT_THROW(running().set_running_or_notify_cancel(), pyconc::RuntimeError);
  EXPECT_THROW(succeeded(1).set_running_or_notify_cancel(), pyconc::RuntimeError);
  // It wakes waiters on the cancelled future.
  Future<int> waited;
  waited.cancel();
  auto [done, not_done] = pyconc::futures::wait(std::vector{waited}, 0s);
  EXPECT_TRUE(done.empty());  // WAIT-06: not acknowledged yet
  waited.set_running_or_notify_cancel();
  auto after = pyconc::futures::wait(std::vector{waited}, 0s);
  EXPECT_EQ(after.done.size(), 1u);
}

TEST(Future, MoveOnlyResults) {
  Future<std::unique_ptr<int>> f;
  f.set_result(std::make_unique<int>(5));
  std::unique_ptr<int> taken = std::move(f.result());
  EXPECT_EQ(*taken, 5);
}

TEST(Future, UnretrievedExceptionReportedOnceWhenLastHandleDies) {
  std::vector<std::string> reports;
  auto previous = pyconc::futures::set_unretrieved_exception_hook(
      [&](const std::exception_ptr&, const std::string& repr) { reports.push_back(repr); });
  {
    auto f = failed();
    auto copy = f;
  }
  EXPECT_EQ(reports.size(), 1u);
  {
    auto f = failed();
    EXPECT_THROW(f.result(), pyconc::ValueError);  // retrieved: no report
  }
  {
    auto f = failed();
    f.exception();
  }
  EXPECT_EQ(reports.size(), 1u);
  pyconc::futures::set_unretrieved_exception_hook(previous);
  ::testing::internal::CaptureStderr();
  { auto f = failed(); }
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("Future exception was never retrieved"), std::string::npos) << err;
  EXPECT_NE(err.find("ValueError: boom"), std::string::npos) << err;
}

TEST(Future, ManyWaitersAllWake) {
  Future<int> f;
  std::atomic<int> got{0};
  ThreadGroup waiters(6, [&](int) { got.fetch_add(f.result()); });
  ASSERT_TRUE(eventually([&] { return all_sleeping(waiters); }));  // all parked in result()
  f.set_result(2);
  waiters.join();
  EXPECT_EQ(got.load(), 12);
}

}  // namespace
