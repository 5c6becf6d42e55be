// gather, wait_for, shield and wait.
#include <gmock/gmock.h>

#include <chrono>
#include <string>
#include <variant>
#include <vector>

#include "pyconc/asyncio.hpp"

namespace asyncio = pyconc::asyncio;
using namespace std::chrono_literals;
using ::testing::ElementsAre;

namespace {

asyncio::Coroutine<int> after(std::chrono::milliseconds delay, int value, std::vector<int>* finished = nullptr) {
  co_await asyncio::sleep(delay);
  if (finished) finished->push_back(value);
  co_return value;
}

asyncio::Coroutine<int> fail_after(std::chrono::milliseconds delay) {
  co_await asyncio::sleep(delay);
  throw pyconc::ValueError("failed");
}

// covers GAT-01: results in argument order, whatever order they finish in; empty gives [].
TEST(Gather, ResultsComeInArgumentOrder) {
  asyncio::run([]() -> asyncio::Coroutine<void> {
    std::vector<int> finished;
    auto a_b_c_result = co_await asyncio::gather(after(30ms, 1, &finished), after(10ms, 2, &finished),
                                              after(20ms, 3, &finished));  // GCC 12: no structured binding of a co_await
    auto& [a, b, c] = a_b_c_result;
    EXPECT_EQ(std::make_tuple(a, b, c), std::make_tuple(1, 2, 3));
    EXPECT_THAT(finished, ElementsAre(2, 3, 1));
    std::vector<asyncio::Coroutine<int>> many;
    for (int i = 0; i < 5; ++i) many.push_back(after(std::chrono::milliseconds(5 - i), i));
    EXPECT_THAT(co_await asyncio::gather(std::move(many)), ElementsAre(0, 1, 2, 3, 4));
    const std::vector<asyncio::Task<int>> none;
    EXPECT_TRUE((co_await asyncio::gather(none)).empty());
  });
}

// covers GAT-02: the first exception is raised at once; the other children go on.
TEST(Gather, TheFirstExceptionIsRaisedAndTheOthersGoOn) {
  asyncio::run([]() -> asyncio::Coroutine<void> {
    auto slow = asyncio::create_task(after(30ms, 7));
    EXPECT_THROW(co_await asyncio::gather(fail_after(1ms), slow), pyconc::ValueError);
    EXPECT_FALSE(slow.done());  // raised without waiting for it, and it was not cancelled
    EXPECT_EQ(co_await slow, 7);
  });
}

// covers GAT-03: with return_exceptions every outcome is kept, cancellations included.
TEST(Gather, ReturnExceptionsKeepsEveryOutcome) {
  asyncio::run([]() -> asyncio::Coroutine<void> {
    auto cancelled = asyncio::create_task(after(1h, 0));
    asyncio::get_running_loop().call_soon([cancelled] { cancelled.cancel(); });
    auto ok_failed_gone_result = co_await asyncio::gather(asyncio::return_exceptions, after(1ms, 5), fail_after(2ms), cancelled);  // GCC 12: no structured binding of a co_await
    auto& [ok, failed, gone] = ok_failed_gone_result;
    EXPECT_EQ(std::get<0>(ok), 5);
    EXPECT_THROW(std::rethrow_exception(std::get<1>(failed)), pyconc::ValueError);
    EXPECT_THROW(std::rethrow_exception(std::get<1>(gone)), asyncio::CancelledError);
  });
}

// covers GAT-04: a cancelled child makes the gather raise CancelledError, not be cancelled.
TEST(Gather, ACancelledChildFailsTheGatherWithoutCancellingIt) {
  asyncio::run([]() -> asyncio::Coroutine<void> {
    auto child = asyncio::create_task(after(1h, 0));
    const std::vector<asyncio::Task<int>> children{child};
    auto gathered = asyncio::gather(children);
    co_await asyncio::sleep(0s);
    child.cancel();
    EXPECT_THROW(co_await gathered, asyncio::CancelledError);
    EXPECT_FALSE(gathered.cancelled());
  });
}

// covers GAT-05: cancelling the gather cancels every child; after they are done cancel()
// returns False.
TEST(Gather, CancellingTheGatherCancelsEveryChild) {
  asyncio::run([]() -> asyncio::Coroutine<void> {
    auto a = asyncio::create_task(after(1h, 1));
    auto b = asyncio::create_task(after(1h, 2));
    auto gathered = asyncio::gather(a, b);
    co_await asyncio::sleep(0s);
    EXPECT_TRUE(gathered.cancel());
    EXPECT_THROW(co_await gathered, asyncio::CancelledError);
    EXPECT_TRUE(a.cancelled());
    EXPECT_TRUE(b.cancelled());
    EXPECT_FALSE(gathered.cancel());
    auto done = asyncio::gather(after(0ms, 3));
    EXPECT_EQ(std::get<0>(co_await done), 3);
    EXPECT_FALSE(done.cancel());
  });
}

// covers WF-01: a result before the deadline is returned; none waits for ever.
TEST(WaitFor, AResultInTimeIsReturned) {
  asyncio::run([]() -> asyncio::Coroutine<void> {
    EXPECT_EQ(co_await asyncio::wait_for(after(1ms, 4), 60s), 4);
    EXPECT_EQ(co_await asyncio::wait_for(after(1ms, 5), std::nullopt), 5);
  });
}

// covers WF-02: on timeout the inner task is cancelled and awaited, then TimeoutError.
TEST(WaitFor, OnTimeoutTheInnerTaskIsCancelledAndAwaited) {
  asyncio::run([]() -> asyncio::Coroutine<void> {
    bool cleaned = false;
    auto inner = asyncio::create_task([&cleaned]() -> asyncio::Coroutine<int> {
      try {
        co_await asyncio::sleep(1h);
      } catch (const asyncio::CancelledError&) {
        cleaned = true;
        throw;
      }
      co_return 0;
    });
    EXPECT_THROW(co_await asyncio::wait_for(inner, 10ms), pyconc::TimeoutError);
    EXPECT_TRUE(cleaned);  // finished before wait_for raised
    EXPECT_TRUE(inner.cancelled());
  });
}

// covers WF-03: a zero timeout: a done future gives its result, a coroutine never starts, a
// running task is cancelled.
TEST(WaitFor, AZeroTimeout) {
  asyncio::run([]() -> asyncio::Coroutine<void> {
    bool started = false;
    auto never = [&started]() -> asyncio::Coroutine<int> {
      started = true;
      co_return 1;
    };
    EXPECT_THROW(co_await asyncio::wait_for(never(), 0s), pyconc::TimeoutError);
    co_await asyncio::sleep(0s);
    EXPECT_FALSE(started);
    asyncio::Future<int> done(asyncio::get_running_loop());
    done.set_result(9);
    EXPECT_EQ(co_await asyncio::wait_for(done, 0s), 9);
    auto running = asyncio::create_task(after(1h, 0));
    EXPECT_THROW(co_await asyncio::wait_for(running, 0s), pyconc::TimeoutError);
    EXPECT_TRUE(running.cancelled());
  });
}

// covers WF-04: an inner task that swallows the cancellation and returns gives its value; one
// that raises another exception while cancelled propagates it.
TEST(WaitFor, WhatTheInnerTaskDoesWithTheCancellationDecides) {
  asyncio::run([]() -> asyncio::Coroutine<void> {
    auto stubborn = []() -> asyncio::Coroutine<int> {
      try {
        co_await asyncio::sleep(1h);
      } catch (const asyncio::CancelledError&) {
        co_return 17;
      }
      co_return 0;
    };
    EXPECT_EQ(co_await asyncio::wait_for(stubborn(), 5ms), 17);
    auto raising = []() -> asyncio::Coroutine<int> {
      try {
        co_await asyncio::sleep(1h);
      } catch (const asyncio::CancelledError&) {
        throw pyconc::ValueError("cleanup failed");
      }
      co_return 0;
    };
    EXPECT_THROW(co_await asyncio::wait_for(raising(), 5ms), pyconc::ValueError);
  });
}

// covers WF-05: cancelling the task running wait_for cancels the inner one and raises
// CancelledError in the caller.
TEST(WaitFor, CancellingTheCallerCancelsTheInnerTask) {
  asyncio::run([]() -> asyncio::Coroutine<void> {
    auto inner = asyncio::create_task(after(1h, 0));
    auto caller = asyncio::create_task([inner]() -> asyncio::Coroutine<int> { co_return co_await asyncio::wait_for(inner, 1h); });
    co_await asyncio::sleep(0s);
    co_await asyncio::sleep(0s);
    caller.cancel();
    EXPECT_THROW(co_await caller, asyncio::CancelledError);
    EXPECT_TRUE(inner.cancelled());
  });
}

// covers SHLD-01, SHLD-02: shield passes the result on; cancelling the outer leaves the inner
// running; cancelling the inner cancels the outer.
TEST(Shield, ProtectsTheInnerTaskFromCancellation) {
  asyncio::run([]() -> asyncio::Coroutine<void> {
    auto inner = asyncio::create_task(after(10ms, 3));
    auto outer = asyncio::shield(inner);
    EXPECT_TRUE(outer.cancel());
    EXPECT_THROW(co_await outer, asyncio::CancelledError);
    EXPECT_EQ(co_await inner, 3);  // ran to completion
    EXPECT_EQ(co_await asyncio::shield(inner), 3);  // already done: its result
    auto victim = asyncio::create_task(after(1h, 0));
    auto protector = asyncio::shield(victim);
    co_await asyncio::sleep(0s);
    victim.cancel();
    EXPECT_THROW(co_await protector, asyncio::CancelledError);
    EXPECT_TRUE(protector.cancelled());
  });
}

// covers AW-01, AW-02, AW-03: wait returns (done, pending) and never raises on timeout nor
// cancels; an empty list is ValueError; FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED.
TEST(Wait, ReturnsDoneAndPending) {
  asyncio::run([]() -> asyncio::Coroutine<void> {
    auto fast = asyncio::create_task(after(1ms, 1));
    auto slow = asyncio::create_task(after(1h, 2));
    auto failing = asyncio::create_task(fail_after(5ms));
    // (GCC 12 cannot keep a braced list alive across a co_await: the vectors are named.)
    const std::vector<asyncio::Task<int>> fast_slow{fast, slow}, slow_failing_slow{slow, failing, slow},
        only_slow{slow}, fast_failing{fast, failing};
    auto done_pending_result = co_await asyncio::wait(fast_slow, std::nullopt, asyncio::FIRST_COMPLETED);  // GCC 12: no structured binding of a co_await
    auto& [done, pending] = done_pending_result;
    EXPECT_THAT(done, ElementsAre(fast));
    EXPECT_THAT(pending, ElementsAre(slow));
    auto done2_pending2_result = co_await asyncio::wait(slow_failing_slow, std::nullopt, asyncio::FIRST_EXCEPTION);  // GCC 12: no structured binding of a co_await
    auto& [done2, pending2] = done2_pending2_result;
    EXPECT_THAT(done2, ElementsAre(failing));
    EXPECT_THAT(pending2, ElementsAre(slow));  // the duplicate counted once
    auto done3_pending3_result = co_await asyncio::wait(only_slow, 10ms);  // GCC 12: no structured binding of a co_await
    auto& [done3, pending3] = done3_pending3_result;
    EXPECT_TRUE(done3.empty());
    EXPECT_FALSE(slow.cancelled());  // a timeout cancels nothing
    auto done4_pending4_result = co_await asyncio::wait(fast_failing, 0s);  // GCC 12: no structured binding of a co_await
    auto& [done4, pending4] = done4_pending4_result;
    EXPECT_EQ(done4.size(), 2u);
    const std::vector<asyncio::Task<int>> none;
    EXPECT_THROW(co_await asyncio::wait(none), pyconc::ValueError);
    slow.cancel();
    failing.exception();
  });
}

}  // namespace

namespace {

// covers GAT-01: the children start in argument order, as Python's do.
TEST(Gather, ChildrenStartInArgumentOrder) {
  asyncio::run([]() -> asyncio::Coroutine<void> {
    std::vector<int> started;
    auto child = [&started](int n) -> asyncio::Coroutine<int> {
      started.push_back(n);
      co_return n;
    };
    co_await asyncio::gather(child(1), child(2), child(3));
    EXPECT_THAT(started, ElementsAre(1, 2, 3));
  });
}

}  // namespace

namespace {

// covers GAT-06: the same task given twice gives its result twice; a future of another loop
// is ValueError.
TEST(Gather, DuplicatesAndForeignFutures) {
  asyncio::EventLoop other;
  asyncio::Future<int> foreign(other);
  asyncio::run([&foreign]() -> asyncio::Coroutine<void> {
    int runs = 0;
    auto task = asyncio::create_task([&runs]() -> asyncio::Coroutine<int> {
      ++runs;
      co_return 8;
    });
    auto twice = co_await asyncio::gather(task, task);
    EXPECT_EQ(twice, std::make_tuple(8, 8));
    EXPECT_EQ(runs, 1);
    EXPECT_THROW(asyncio::gather(foreign), pyconc::ValueError);
  });
  foreign.cancel();
}

}  // namespace
