// The event loop: callbacks, timers, stop, close, threads, the exception handler.
#include <gmock/gmock.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "pyconc/asyncio.hpp"
#include "pyconc/report.hpp"
#include "pyconc/threading.hpp"

namespace asyncio = pyconc::asyncio;
using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

namespace {

// covers LOOP-01: callbacks run once each, in FIFO order, never inside call_soon; a
// cancelled handle never runs.
TEST(EventLoop, CallSoonRunsCallbacksInOrderOnALaterIteration) {
  asyncio::EventLoop loop;
  std::vector<int> ran;
  loop.call_soon([&] { ran.push_back(1); });
  auto cancelled = loop.call_soon([&] { ran.push_back(99); });
  loop.call_soon([&](int x) { ran.push_back(x); }, 2);
  loop.call_soon([&] { loop.stop(); });
  EXPECT_TRUE(ran.empty());  // not inside the call
  cancelled.cancel();
  EXPECT_TRUE(cancelled.cancelled());
  loop.run_forever();
  EXPECT_THAT(ran, ElementsAre(1, 2));
}

// covers LOOP-02, LOOP-06: one iteration runs what was ready when it began; stop() lets the
// iteration finish and what it scheduled waits for the next run.
TEST(EventLoop, OneIterationRunsOnlyWhatWasReady) {
  asyncio::EventLoop loop;
  std::vector<std::string> ran;
  loop.call_soon([&] {
    ran.push_back("a");
    loop.call_soon([&] { ran.push_back("c"); });
  });
  loop.call_soon([&] {
    ran.push_back("b");
    loop.stop();
  });
  loop.run_forever();
  EXPECT_THAT(ran, ElementsAre("a", "b"));
  loop.stop();  // stop() before run_forever(): exactly one iteration
  loop.run_forever();
  EXPECT_THAT(ran, ElementsAre("a", "b", "c"));
}

// covers LOOP-03, LOOP-04: timers fire in order of their time, not of their scheduling, and
// not before it; negative delays run at the next iteration.
TEST(EventLoop, TimersFireInOrderOfTheirTime) {
  asyncio::EventLoop loop;
  std::vector<int> ran;
  const double start = loop.time();
  double fired_at = 0;
  loop.call_later(30ms, [&] {
    ran.push_back(3);
    fired_at = loop.time();
    loop.stop();
  });
  loop.call_later(10ms, [&] { ran.push_back(2); });
  loop.call_later(-1s, [&] { ran.push_back(1); });
  auto timer = loop.call_at(start + 0.02, [&] { ran.push_back(99); });
  EXPECT_NEAR(timer.when(), start + 0.02, 1e-9);
  timer.cancel();
  loop.run_forever();
  EXPECT_THAT(ran, ElementsAre(1, 2, 3));
  EXPECT_GE(fired_at - start, 0.03 - 1e-3);
}

// covers LOOP-05: call_soon_threadsafe from another thread wakes a loop that is waiting.
TEST(EventLoop, CallSoonThreadsafeWakesTheLoop) {
  asyncio::EventLoop loop;
  std::atomic<int> from_thread{0};
  pyconc::threading::Event running;
  loop.call_soon([&] { running.set(); });
  std::thread other([&] {
    running.wait();
    for (int i = 0; i < 100; ++i) loop.call_soon_threadsafe([&] { ++from_thread; });
    loop.call_soon_threadsafe([&] { loop.stop(); });
  });
  loop.run_forever();  // nothing else is scheduled: only the wake-ups end the waits
  other.join();
  EXPECT_EQ(from_thread.load(), 100);
}

// covers LOOP-07, LOOP-08: run_until_complete returns the result; stopped first it raises;
// a loop cannot run inside a running one; get_running_loop outside one raises
// (_get_running_loop answers null).
TEST(EventLoop, RunUntilCompleteAndOneRunningLoopPerThread) {
  asyncio::EventLoop loop;
  EXPECT_THROW(asyncio::get_running_loop(), pyconc::RuntimeError);
  EXPECT_EQ(asyncio::_get_running_loop(), nullptr);
  EXPECT_EQ(loop.run_until_complete([]() -> asyncio::Coroutine<int> { co_return 7; }()), 7);
  asyncio::Future<int> never(loop);
  loop.call_soon([&] { loop.stop(); });
  try {
    loop.run_until_complete(never);
    FAIL() << "returned before the future was done";
  } catch (const pyconc::RuntimeError& e) {
    EXPECT_STREQ(e.what(), "Event loop stopped before Future completed.");
  }
  std::string nested, reentered;
  asyncio::EventLoop other;
  loop.call_soon([&] {
    try {
      other.run_forever();
    } catch (const pyconc::RuntimeError& e) {
      nested = e.what();
    }
    try {
      loop.run_forever();
    } catch (const pyconc::RuntimeError& e) {
      reentered = e.what();
    }
    EXPECT_EQ(&asyncio::get_running_loop(), &loop);
    EXPECT_EQ(asyncio::_get_running_loop(), &loop);
    loop.stop();
  });
  loop.run_forever();
  EXPECT_EQ(nested, "Cannot run the event loop while another loop is running");
  EXPECT_EQ(reentered, "This event loop is already running");
  never.cancel();
}

// covers LOOP-09, LOOP-10: close() drops pending callbacks and timers, is idempotent, and
// refuses a running loop; a closed loop refuses work.
TEST(EventLoop, CloseDropsPendingWorkAndAClosedLoopRefusesMore) {
  asyncio::EventLoop loop;
  bool ran = false;
  loop.call_soon([&] { ran = true; });
  loop.call_later(1ms, [&] { ran = true; });
  std::string refused;
  {
    asyncio::EventLoop running;
    running.call_soon([&] {
      try {
        running.close();
      } catch (const pyconc::RuntimeError& e) {
        refused = e.what();
      }
      running.stop();
    });
    running.run_forever();
  }
  EXPECT_EQ(refused, "Cannot close a running event loop");
  loop.close();
  loop.close();
  EXPECT_TRUE(loop.is_closed());
  EXPECT_FALSE(ran);
  EXPECT_THROW(loop.call_soon([] {}), pyconc::RuntimeError);
  EXPECT_THROW(loop.call_later(1ms, [] {}), pyconc::RuntimeError);
  EXPECT_THROW(loop.call_soon_threadsafe([] {}), pyconc::RuntimeError);
  EXPECT_THROW(loop.run_forever(), pyconc::RuntimeError);
}

// covers LOOP-14, LOOP-15, LOOP-16: a raising callback goes to the exception handler, with
// 'Exception in callback'; the loop goes on; a handler that raises is reported too.
TEST(EventLoop, ExceptionsFromCallbacksGoToTheExceptionHandler) {
  asyncio::EventLoop loop;
  std::vector<std::string> messages;
  loop.set_exception_handler([&](asyncio::EventLoop&, const asyncio::ExceptionContext& context) {
    messages.push_back(context.message);
    EXPECT_TRUE(context.exception);
    if (messages.size() == 2) throw std::runtime_error("handler failed");
  });
  std::string reported;
  auto previous = pyconc::set_report_sink([&](std::string_view text) { reported += text; });
  loop.call_soon([] { throw pyconc::ValueError("boom"); });
  loop.call_soon([] { throw pyconc::ValueError("again"); });
  bool after = false;
  loop.call_soon([&] {
    after = true;
    loop.stop();
  });
  loop.run_forever();
  pyconc::set_report_sink(previous);
  EXPECT_TRUE(after);
  EXPECT_THAT(messages, ElementsAre("Exception in callback", "Exception in callback"));
  EXPECT_THAT(reported, HasSubstr("Unhandled error in exception handler"));
  EXPECT_THAT(reported, HasSubstr("ValueError: again"));
}

// covers LOOP-18: in debug mode a slow callback is reported.
TEST(EventLoop, DebugModeReportsSlowCallbacks) {
  asyncio::EventLoop loop;
  loop.set_debug(true);
  loop.set_slow_callback_duration(0.01);
  std::string reported;
  auto previous = pyconc::set_report_sink([&](std::string_view text) { reported += text; });
  loop.call_soon([&] {
    std::this_thread::sleep_for(20ms);  // a blocking call inside the loop: the seeds' pitfall
    loop.stop();
  });
  loop.run_forever();
  EXPECT_THAT(reported, HasSubstr("Executing <Handle> took"));
  reported.clear();
  asyncio::run(
      []() -> asyncio::Coroutine<void> {
        asyncio::get_running_loop().set_slow_callback_duration(0.01);
        std::this_thread::sleep_for(20ms);  // the step of a task: the report names it
        co_return;
      },
      true);
  pyconc::set_report_sink(previous);
  EXPECT_THAT(reported, HasSubstr("Executing <Task"));
}

}  // namespace
