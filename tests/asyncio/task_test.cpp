// Tasks and futures: results, Python's cancellation rules, sleep, run.
#include <gmock/gmock.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <memory>
#include <string>
#include <vector>

#include "pyconc/asyncio.hpp"
#include "pyconc/report.hpp"
#include "pyconc/threading.hpp"

namespace asyncio = pyconc::asyncio;
using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

namespace {

asyncio::Coroutine<int> add(int a, int b) {
  co_await asyncio::sleep(0s);
  co_return a + b;
}

// covers RUN-01: run() gives the coroutine's value or raises its exception.
TEST(Run, ReturnsTheValueOrRaisesTheException) {
  EXPECT_EQ(asyncio::run(add(1, 2)), 3);
  EXPECT_THROW(asyncio::run([]() -> asyncio::Coroutine<void> {
                 co_await asyncio::sleep(0s);
                 throw pyconc::ValueError("bad");
               }),
               pyconc::ValueError);
}

// covers RUN-02: run() inside a running loop raises RuntimeError.
TEST(Run, InsideARunningLoopRaises) {
  bool raised = false;
  asyncio::run([&]() -> asyncio::Coroutine<void> {
    try {
      asyncio::run(add(1, 1));
    } catch (const pyconc::RuntimeError&) {
      raised = true;
    }
    co_return;
  });
  EXPECT_TRUE(raised);
}

// covers RUN-03: tasks still pending when main returns are cancelled and awaited; one that
// raises while being cancelled is reported, not raised.
TEST(Run, CancelsAndAwaitsTasksLeftPending) {
  auto cleaned = std::make_shared<bool>(false);
  std::string reported;
  auto previous = pyconc::set_report_sink([&](std::string_view text) { reported += text; });
  asyncio::run([cleaned]() -> asyncio::Coroutine<void> {
    asyncio::create_task([cleaned]() -> asyncio::Coroutine<void> {
      try {
        co_await asyncio::sleep(1h);
      } catch (const asyncio::CancelledError&) {
        *cleaned = true;
        throw;
      }
    });
    asyncio::create_task([]() -> asyncio::Coroutine<void> {
      try {
        co_await asyncio::sleep(1h);
      } catch (const asyncio::CancelledError&) {
      }
      throw pyconc::ValueError("while cancelled");
    });
    co_await asyncio::sleep(0s);  // both start
  });
  pyconc::set_report_sink(previous);
  EXPECT_TRUE(*cleaned);
  EXPECT_THAT(reported, HasSubstr("unhandled exception during asyncio.run() shutdown"));
  EXPECT_THAT(reported, HasSubstr("ValueError: while cancelled"));
}

// covers AFUT-01, AFUT-02, AFUT-03: result/exception never block; the first cancel wins;
// a finished future cannot be set again.
TEST(Future, StatesFollowPythonsRules) {
  asyncio::EventLoop loop;
  asyncio::Future<int> f(loop);
  EXPECT_THROW(f.result(), pyconc::futures::InvalidStateError);
  EXPECT_THROW(f.exception(), pyconc::futures::InvalidStateError);
  EXPECT_TRUE(f.cancel("why"));
  EXPECT_FALSE(f.cancel());
  EXPECT_TRUE(f.cancelled());
  try {
    f.result();
    FAIL();
  } catch (const asyncio::CancelledError& e) {
    EXPECT_STREQ(e.what(), "why");
  }
  EXPECT_THROW(f.set_result(1), pyconc::futures::InvalidStateError);
  asyncio::Future<int> g(loop);
  g.set_result(5);
  EXPECT_EQ(g.result(), 5);
  EXPECT_FALSE(g.cancel());
  EXPECT_THROW(g.set_result(6), pyconc::futures::InvalidStateError);
  EXPECT_THROW(g.set_exception(std::make_exception_ptr(pyconc::ValueError("x"))), pyconc::futures::InvalidStateError);
  asyncio::Future<void> h(loop);
  h.set_exception(std::make_exception_ptr(pyconc::ValueError("x")));
  EXPECT_THROW(h.result(), pyconc::ValueError);
  EXPECT_TRUE(h.exception());
}

// covers AFUT-04: done-callbacks are scheduled on the loop, in order, not run by set_result;
// a removed one does not run.
TEST(Future, DoneCallbacksAreScheduledInOrder) {
  asyncio::EventLoop loop;
  asyncio::Future<int> f(loop);
  std::vector<int> ran;
  f.add_done_callback([&](asyncio::FutureBase) { ran.push_back(1); });
  const auto removed = f.add_done_callback([&](asyncio::FutureBase) { ran.push_back(99); });
  f.add_done_callback([&](asyncio::FutureBase done) {
    ran.push_back(2);
    EXPECT_TRUE(done.done());
  });
  EXPECT_EQ(f.remove_done_callback(removed), 1u);
  f.set_result(1);
  EXPECT_TRUE(ran.empty());
  loop.call_soon([&] { loop.stop(); });
  loop.run_forever();
  EXPECT_THAT(ran, ElementsAre(1, 2));
}

// covers AFUT-05: awaiting a future of another loop raises RuntimeError.
TEST(Future, AwaitingAFutureOfAnotherLoopRaises) {
  asyncio::EventLoop other;
  asyncio::Future<int> foreign(other);
  EXPECT_THROW(asyncio::run([&]() -> asyncio::Coroutine<int> { co_return co_await foreign; }), pyconc::RuntimeError);
}

// covers TASK-01: a new task does not start until its creator yields; name= is kept.
TEST(Task, StartsOnlyWhenItsCreatorYields) {
  asyncio::run([]() -> asyncio::Coroutine<void> {
    std::vector<std::string> order;
    auto task = asyncio::create_task(
        [&order]() -> asyncio::Coroutine<void> {
          order.push_back("task");
          co_return;
        },
        "worker");
    order.push_back("creator");
    EXPECT_EQ(task.get_name(), "worker");
    co_await task;
    EXPECT_THAT(order, ElementsAre("creator", "task"));
    auto unnamed = asyncio::create_task(add(1, 2));
    EXPECT_THAT(unnamed.get_name(), ::testing::StartsWith("Task-"));
    EXPECT_EQ(co_await unnamed, 3);
    EXPECT_EQ(co_await unnamed, 3);  // a task is awaitable many times
  });
}

// covers TASK-02, TASK-03, TASK-04, SLP-02: cancel() on a sleeping task: True each time,
// counted; the sleep raises CancelledError(msg) and its timer is cancelled.
TEST(Task, CancellingASleepingTask) {
  asyncio::run([]() -> asyncio::Coroutine<void> {
    std::string seen;
    auto task = asyncio::create_task([&seen]() -> asyncio::Coroutine<void> {
      try {
        co_await asyncio::sleep(1h);
      } catch (const asyncio::CancelledError& e) {
        seen = e.what();
        throw;
      }
    });
    co_await asyncio::sleep(0s);
    EXPECT_TRUE(task.cancel("stop"));
    EXPECT_TRUE(task.cancel("stop"));
    EXPECT_EQ(task.cancelling(), 2);
    try {
      co_await task;
      ADD_FAILURE() << "the task was not cancelled";
    } catch (const asyncio::CancelledError& e) {
      EXPECT_STREQ(e.what(), "stop");
    }
    EXPECT_EQ(seen, "stop");
    EXPECT_TRUE(task.cancelled());
    EXPECT_FALSE(task.cancel());
  });
}

// covers TASK-05, TASK-08: a coroutine that catches the cancellation and returns ends with
// its value, not cancelled; uncancel lowers the count.
TEST(Task, ACoroutineMayRefuseCancellation) {
  asyncio::run([]() -> asyncio::Coroutine<void> {
    auto task = asyncio::create_task([]() -> asyncio::Coroutine<int> {
      try {
        co_await asyncio::sleep(1h);
      } catch (const asyncio::CancelledError&) {
        asyncio::current_task()->uncancel();
        co_return 42;
      }
      co_return 0;
    });
    co_await asyncio::sleep(0s);
    task.cancel();
    EXPECT_EQ(co_await task, 42);
    EXPECT_FALSE(task.cancelled());
    EXPECT_EQ(task.cancelling(), 0);
  });
}

// covers TASK-06: a task that cancels itself raises at its next await; one that returns
// without awaiting again still ends cancelled.
TEST(Task, CancellingItself) {
  asyncio::run([]() -> asyncio::Coroutine<void> {
    auto raises = asyncio::create_task([]() -> asyncio::Coroutine<int> {
      asyncio::current_task()->cancel();
      co_await asyncio::sleep(0s);
      co_return 1;
    });
    auto returns = asyncio::create_task([]() -> asyncio::Coroutine<int> {
      asyncio::current_task()->cancel();
      co_return 2;
    });
    for (auto* task : {&raises, &returns}) {
      try {
        co_await *task;
        ADD_FAILURE() << task->get_name() << " was not cancelled";
      } catch (const asyncio::CancelledError&) {
      }
      EXPECT_TRUE(task->cancelled());
    }
  });
}

asyncio::Coroutine<void> innermost(std::vector<std::string>* levels) {
  try {
    co_await asyncio::sleep(1h);
  } catch (const asyncio::CancelledError&) {
    levels->push_back("innermost");
    throw;
  }
}
asyncio::Coroutine<void> middle(std::vector<std::string>* levels) {
  try {
    co_await innermost(levels);
  } catch (const asyncio::CancelledError&) {
    levels->push_back("middle");
    throw;
  }
}

// covers TASK-07: every level of nested coroutines sees the CancelledError; a task with a
// pending cancel that awaits another task cancels that one too.
TEST(Task, CancellationGoesThroughEveryLevel) {
  asyncio::run([]() -> asyncio::Coroutine<void> {
    std::vector<std::string> levels;
    auto task = asyncio::create_task(middle(&levels));
    co_await asyncio::sleep(0s);
    task.cancel();
    try {
      co_await task;
    } catch (const asyncio::CancelledError&) {
    }
    EXPECT_THAT(levels, ElementsAre("innermost", "middle"));

    auto inner = asyncio::create_task([]() -> asyncio::Coroutine<void> { co_await asyncio::sleep(1h); });
    auto outer = asyncio::create_task([inner]() -> asyncio::Coroutine<void> {
      asyncio::current_task()->cancel();
      co_await inner;
    });
    try {
      co_await outer;
    } catch (const asyncio::CancelledError&) {
    }
    EXPECT_TRUE(inner.cancelled());
    EXPECT_TRUE(outer.cancelled());
  });
}

// covers TASK-09: another exception raised instead of the CancelledError ends the task with
// it, not cancelled. CancelledError passes a catch of std::exception (it is a BaseException).
TEST(Task, AnotherExceptionReplacesTheCancellation) {
  asyncio::run([]() -> asyncio::Coroutine<void> {
    bool caught_by_std_exception = false;
    auto task = asyncio::create_task([&caught_by_std_exception]() -> asyncio::Coroutine<void> {
      try {
        try {
          co_await asyncio::sleep(1h);
        } catch (const std::exception&) {
          caught_by_std_exception = true;
        }
      } catch (const asyncio::CancelledError&) {
        throw pyconc::ValueError("instead");
      }
    });
    co_await asyncio::sleep(0s);
    task.cancel();
    EXPECT_THROW(co_await task, pyconc::ValueError);
    EXPECT_FALSE(task.cancelled());
    EXPECT_FALSE(caught_by_std_exception);
  });
}

// covers TASK-10, TASK-11: a task awaiting itself raises RuntimeError; current_task is the
// running task, and raises outside a running loop.
TEST(Task, AwaitingItselfAndCurrentTask) {
  EXPECT_THROW(asyncio::current_task(), pyconc::RuntimeError);
  asyncio::run([]() -> asyncio::Coroutine<void> {
    auto self = std::make_shared<asyncio::Task<void>>();
    *self = asyncio::create_task([self]() -> asyncio::Coroutine<void> {
      EXPECT_EQ(asyncio::current_task()->get_name(), self->get_name());
      co_await *self;
    });
    EXPECT_THROW(co_await *self, pyconc::RuntimeError);
    EXPECT_EQ(asyncio::all_tasks().size(), 1u);  // this one: the other has finished
    self->exception();
    *self = {};  // the task's closure holds `self`: break the cycle
  });
}

// covers SLP-01: sleep(d) waits about d; sleep(0) yields one iteration, so callbacks already
// scheduled run first; sleep gives its result.
TEST(Sleep, WaitsAndSleepZeroYieldsOnce) {
  asyncio::run([]() -> asyncio::Coroutine<void> {
    auto& loop = asyncio::get_running_loop();
    bool callback_ran = false;
    loop.call_soon([&] { callback_ran = true; });
    co_await asyncio::sleep(0s);
    EXPECT_TRUE(callback_ran);
    const double start = loop.time();
    EXPECT_EQ(co_await asyncio::sleep(20ms, std::string("done")), "done");
    EXPECT_GE(loop.time() - start, 0.02 - 1e-3);
    co_await asyncio::sleep(-1s);
  });
}

// 10,000 tasks on one thread, each sleeping, all awaited: every result arrives.
TEST(Task, TenThousandTasksOnOneThread) {
  const long total = asyncio::run([]() -> asyncio::Coroutine<long> {
    std::vector<asyncio::Task<int>> tasks;
    for (int i = 0; i < 10000; ++i)
      tasks.push_back(asyncio::create_task([i]() -> asyncio::Coroutine<int> {
        co_await asyncio::sleep(std::chrono::milliseconds(i % 7));
        co_return i;
      }));
    long sum = 0;
    for (auto& task : tasks) sum += co_await task;
    co_return sum;
  });
  EXPECT_EQ(total, 10000L * 9999 / 2);
}

// covers LOOP-15: a task's exception nobody retrieved is reported when the task goes.
TEST(Task, AnExceptionNeverRetrievedIsReported) {
  std::string reported;
  auto previous = pyconc::set_report_sink([&](std::string_view text) { reported += text; });
  asyncio::run([]() -> asyncio::Coroutine<void> {
    {
      auto task = asyncio::create_task([]() -> asyncio::Coroutine<void> {
        throw pyconc::ValueError("lost");
        co_return;
      });
      co_await asyncio::sleep(0s);
      co_await asyncio::sleep(0s);
    }
  });
  pyconc::set_report_sink(previous);
  EXPECT_THAT(reported, HasSubstr("Task exception was never retrieved"));
  EXPECT_THAT(reported, HasSubstr("ValueError: lost"));
}

}  // namespace

namespace {

// A coroutine awaited twice: Python's RuntimeError "cannot reuse already awaited coroutine".
TEST(Coroutine, AwaitedTwiceRaises) {
  asyncio::run([]() -> asyncio::Coroutine<void> {
    auto c = add(1, 2);
    EXPECT_EQ(co_await c, 3);
    EXPECT_THROW(co_await c, pyconc::RuntimeError);
  });
}

}  // namespace

namespace {

// covers LOOP-19: a coroutine destroyed without ever running is reported.
TEST(Coroutine, NeverAwaitedIsReported) {
  std::string reported;
  auto previous = pyconc::set_report_sink([&](std::string_view text) { reported += text; });
  { auto forgotten = add(1, 2); }
  pyconc::set_report_sink(previous);
  EXPECT_THAT(reported, HasSubstr("was never awaited"));
}

// covers LOOP-17: run() ends by cancelling what is left, then waits for the default
// executor's jobs, then closes the loop.
TEST(Run, WaitsForTheDefaultExecutorsJobsBeforeReturning) {
  auto started = std::make_shared<pyconc::threading::Event>();
  auto finished = std::make_shared<std::atomic<bool>>(false);
  asyncio::run([started, finished]() -> asyncio::Coroutine<void> {
    asyncio::create_task(asyncio::to_thread([started, finished] {
      started->set();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      *finished = true;
    }));
    // Once the job runs, main returns without awaiting it (a job not started yet would be
    // cancelled with its task, as in Python).
    while (!started->is_set()) co_await asyncio::sleep(1ms);
  });
  EXPECT_TRUE(finished->load());
}

}  // namespace
