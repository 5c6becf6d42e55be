// asyncio and threads: to_thread, run_in_executor, run_coroutine_threadsafe, wrap_future,
// awaiting a futures::Future; as_completed.
#include <gmock/gmock.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "pyconc/asyncio.hpp"
#include "pyconc/futures.hpp"
#include "pyconc/threading.hpp"

namespace asyncio = pyconc::asyncio;
using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::StartsWith;

namespace {

// covers ATT-01: to_thread runs fn once in a worker thread and gives its result or raises its
// exception; many calls run at once, and the loop goes on meanwhile.
TEST(ToThread, RunsBlockingCallsOffTheLoop) {
  asyncio::run([]() -> asyncio::Coroutine<void> {
    const auto loop_thread = std::this_thread::get_id();
    std::atomic<int> calls{0};
    auto work = [&calls, loop_thread](int x) {
      ++calls;
      EXPECT_NE(std::this_thread::get_id(), loop_thread);
      EXPECT_THAT(pyconc::threading::current_thread().name(), StartsWith("asyncio"));
      return x * 2;
    };
    EXPECT_EQ(co_await asyncio::to_thread(work, 21), 42);
    EXPECT_EQ(calls.load(), 1);
    EXPECT_THROW(co_await asyncio::to_thread([] { throw pyconc::ValueError("in a thread"); }), pyconc::ValueError);
    // Two calls that can only finish together: they run at the same time.
    pyconc::threading::Barrier both(2);
    auto meet = [&both] { return both.wait(std::chrono::seconds(60)); };
    auto pair = co_await asyncio::gather(asyncio::to_thread(meet), asyncio::to_thread(meet));
    EXPECT_EQ(std::get<0>(pair) + std::get<1>(pair), 1);
    // The loop is free while a thread blocks.
    pyconc::threading::Event release;
    auto blocked = asyncio::create_task(asyncio::to_thread([&release] { release.wait(); }));
    co_await asyncio::sleep(1ms);
    EXPECT_FALSE(blocked.done());
    release.set();
    co_await blocked;
  });
}

// covers LOOP-11: run_in_executor with a given executor, and the default one shut down.
TEST(RunInExecutor, GivenOrDefaultExecutor) {
  pyconc::futures::ThreadPoolExecutor pool(2);
  asyncio::run([&pool]() -> asyncio::Coroutine<void> {
    auto& loop = asyncio::get_running_loop();
    EXPECT_EQ(co_await loop.run_in_executor(&pool, [] { return std::string("pool"); }), "pool");
    co_await loop.run_in_executor(nullptr, [] {});
    co_await loop.shutdown_default_executor();
    EXPECT_THROW(loop.run_in_executor(nullptr, [] {}), pyconc::RuntimeError);
  });
}

// covers AFUT-05: a concurrent future awaited from a coroutine; cancelling the wrapper cancels
// the source unless it has finished.
TEST(WrapFuture, AwaitsAndCancelsConcurrentFutures) {
  pyconc::futures::ThreadPoolExecutor pool(1);
  asyncio::run([&pool]() -> asyncio::Coroutine<void> {
    EXPECT_EQ(co_await pool.submit([] { return 5; }), 5);
    pyconc::threading::Event hold;
    auto busy = pool.submit([&hold] { hold.wait(); });
    auto queued = pool.submit([] { return 1; });  // waits behind `busy`
    auto wrapper = asyncio::wrap_future(queued);
    wrapper.cancel();
    co_await asyncio::sleep(0s);
    EXPECT_TRUE(queued.cancelled());
    hold.set();
    busy.result();
  });
}

// covers RCT-01: run_coroutine_threadsafe from another thread gives a thread-safe future;
// result(timeout) raises TimeoutError; cancelling that future cancels the task; a task that
// cancels itself makes it raise CancelledError.
TEST(RunCoroutineThreadsafe, FromAnotherThread) {
  asyncio::EventLoop loop;
  int answer = 0;
  bool timed_out = false, self_cancelled = false;
  auto task_cancelled = std::make_shared<std::atomic<bool>>(false);
  std::thread other([&] {
    auto f = asyncio::run_coroutine_threadsafe(
        []() -> asyncio::Coroutine<int> {
          co_await asyncio::sleep(1ms);
          co_return 42;
        }(),
        loop);
    answer = f.result(std::chrono::seconds(60));
    auto never = asyncio::run_coroutine_threadsafe(
        [](std::shared_ptr<std::atomic<bool>> flag) -> asyncio::Coroutine<int> {
          try {
            co_await asyncio::sleep(1h);
          } catch (const asyncio::CancelledError&) {
            *flag = true;
            throw;
          }
          co_return 0;
        }(task_cancelled),
        loop);
    try {
      never.result(10ms);
    } catch (const pyconc::TimeoutError&) {
      timed_out = true;
    }
    never.cancel();
    auto itself = asyncio::run_coroutine_threadsafe(
        []() -> asyncio::Coroutine<int> {
          asyncio::current_task()->cancel();
          co_await asyncio::sleep(0s);
          co_return 1;
        }(),
        loop);
    try {
      itself.result(std::chrono::seconds(60));
    } catch (const pyconc::futures::CancelledError&) {
      self_cancelled = true;
    }
    while (!task_cancelled->load()) std::this_thread::sleep_for(1ms);
    loop.call_soon_threadsafe([&loop] { loop.stop(); });
  });
  loop.run_forever();
  other.join();
  EXPECT_EQ(answer, 42);
  EXPECT_TRUE(timed_out);
  EXPECT_TRUE(self_cancelled);
  EXPECT_TRUE(task_cancelled->load());
  loop.close();
}

// covers AAC-01, AAC-02: results in completion order; past the timeout each remaining one
// raises TimeoutError and nothing is cancelled.
TEST(AsCompleted, GivesResultsInCompletionOrder) {
  asyncio::run([]() -> asyncio::Coroutine<void> {
    auto after = [](int ms) -> asyncio::Coroutine<int> {
      co_await asyncio::sleep(std::chrono::milliseconds(ms));
      co_return ms;
    };
    std::vector<asyncio::Coroutine<int>> inputs;
    for (int ms : {30, 10, 20}) inputs.push_back(after(ms));
    std::vector<int> order;
    for (auto& next : asyncio::as_completed(std::move(inputs))) order.push_back(co_await next);
    EXPECT_THAT(order, ElementsAre(10, 20, 30));

    auto slow = asyncio::create_task(after(3600 * 1000));
    auto fast = asyncio::create_task(after(1));
    std::vector<asyncio::Task<int>> tasks{slow, fast, fast};
    auto awaitables = asyncio::as_completed(tasks, 20ms);
    EXPECT_EQ(awaitables.size(), 2u);  // the duplicate counted once
    EXPECT_EQ(co_await awaitables[0], 1);
    EXPECT_THROW(co_await awaitables[1], pyconc::TimeoutError);
    EXPECT_FALSE(slow.cancelled());
    slow.cancel();
  });
}

}  // namespace
