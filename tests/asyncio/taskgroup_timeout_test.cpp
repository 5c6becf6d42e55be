// TaskGroup and timeout: structured concurrency and deadlines.
#include <gmock/gmock.h>

#include <chrono>
#include <string>
#include <vector>

#include "pyconc/asyncio.hpp"

namespace asyncio = pyconc::asyncio;
using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

namespace {

asyncio::Coroutine<int> after(std::chrono::milliseconds delay, int value) {
  co_await asyncio::sleep(delay);
  co_return value;
}

asyncio::Coroutine<int> fail_after(std::chrono::milliseconds delay, std::string message) {
  co_await asyncio::sleep(delay);
  throw pyconc::ValueError(message);
}

// The errors inside a group, as "Type: message".
std::vector<std::string> describe(const pyconc::ExceptionGroup& group) {
  std::vector<std::string> out;
  for (const auto& e : group.exceptions()) {
    try {
      std::rethrow_exception(e);
    } catch (const pyconc::Error& error) {
      out.push_back(std::string(error.type_name()) + ": " + error.what());
    }
  }
  return out;
}

// covers TG-01: leaving the block waits for every child; a child cancelled on purpose is not
// an error and the others carry on.
TEST(TaskGroup, LeavingWaitsForEveryChild) {
  asyncio::run([]() -> asyncio::Coroutine<void> {
    asyncio::Task<int> a, b, c;
    co_await asyncio::task_group([&](asyncio::TaskGroup& tg) -> asyncio::Coroutine<void> {
      a = tg.create_task(after(10ms, 1));
      b = tg.create_task(after(1ms, 2));
      c = tg.create_task(after(1h, 3));
      co_await asyncio::sleep(0s);
      c.cancel();
    });
    EXPECT_EQ(a.result(), 1);
    EXPECT_EQ(b.result(), 2);
    EXPECT_TRUE(c.cancelled());
  });
}

// covers TG-02, TG-09: the first failure cancels the siblings and the body; the group raises
// an ExceptionGroup once all are done; code after the block does not run; the parent is not
// left cancelled.
TEST(TaskGroup, TheFirstFailureCancelsTheRest) {
  asyncio::run([]() -> asyncio::Coroutine<void> {
    asyncio::Task<int> sibling;
    bool body_cancelled = false, after_block = false;
    try {
      co_await asyncio::task_group([&](asyncio::TaskGroup& tg) -> asyncio::Coroutine<void> {
        sibling = tg.create_task(after(1h, 0));
        tg.create_task(fail_after(1ms, "child"));
        try {
          co_await asyncio::sleep(1h);
        } catch (const asyncio::CancelledError&) {
          body_cancelled = true;
          throw;
        }
        after_block = true;
      });
      ADD_FAILURE() << "no ExceptionGroup";
    } catch (const pyconc::ExceptionGroup& group) {
      EXPECT_THAT(describe(group), ElementsAre("ValueError: child"));
      EXPECT_STREQ(group.what(), "unhandled errors in a TaskGroup (1 sub-exception)");
    }
    EXPECT_TRUE(sibling.cancelled());
    EXPECT_TRUE(body_cancelled);
    EXPECT_FALSE(after_block);
    EXPECT_EQ(asyncio::current_task()->cancelling(), 0);
    co_await asyncio::sleep(0s);  // the parent goes on, not cancelled
  });
}

// covers TG-03: an exception in the body cancels the children and joins their errors.
TEST(TaskGroup, TheBodysErrorJoinsTheChildrensErrors) {
  asyncio::run([]() -> asyncio::Coroutine<void> {
    try {
      co_await asyncio::task_group([&](asyncio::TaskGroup& tg) -> asyncio::Coroutine<void> {
        tg.create_task([]() -> asyncio::Coroutine<void> {
          try {
            co_await asyncio::sleep(1h);
          } catch (const asyncio::CancelledError&) {
            throw pyconc::RuntimeError("child while cancelled");
          }
        });
        co_await asyncio::sleep(0s);
        throw pyconc::ValueError("body");
      });
      ADD_FAILURE() << "no ExceptionGroup";
    } catch (const pyconc::ExceptionGroup& group) {
      EXPECT_THAT(describe(group), ElementsAre("RuntimeError: child while cancelled", "ValueError: body"));
    }
  });
}

// covers TG-04: the parent cancelled from outside: the children are cancelled and a plain
// CancelledError goes on.
TEST(TaskGroup, ACancelFromOutsideStaysACancelledError) {
  asyncio::run([]() -> asyncio::Coroutine<void> {
    asyncio::Task<int> child;
    auto parent = asyncio::create_task([&child]() -> asyncio::Coroutine<void> {
      co_await asyncio::task_group([&](asyncio::TaskGroup& tg) -> asyncio::Coroutine<void> {
        child = tg.create_task(after(1h, 0));
        co_await asyncio::sleep(1h);
      });
    });
    co_await asyncio::sleep(0s);
    co_await asyncio::sleep(0s);
    parent.cancel();
    EXPECT_THROW(co_await parent, asyncio::CancelledError);
    EXPECT_TRUE(child.cancelled());
  });
}

// covers TG-05: nested groups: the inner group's ExceptionGroup sits inside the outer one's.
TEST(TaskGroup, NestedGroups) {
  asyncio::run([]() -> asyncio::Coroutine<void> {
    try {
      co_await asyncio::task_group([&](asyncio::TaskGroup& outer) -> asyncio::Coroutine<void> {
        outer.create_task([]() -> asyncio::Coroutine<void> {
          co_await asyncio::task_group([](asyncio::TaskGroup& inner) -> asyncio::Coroutine<void> {
            inner.create_task(fail_after(1ms, "inner"));
            co_return;
          });
        });
        co_return;
      });
      ADD_FAILURE() << "no ExceptionGroup";
    } catch (const pyconc::ExceptionGroup& group) {
      EXPECT_EQ(group.exceptions().size(), 1u);
      if (!group.exceptions().empty())
        EXPECT_THROW(std::rethrow_exception(group.exceptions()[0]), pyconc::ExceptionGroup);
    }
  });
}

// covers TG-06: SystemExit from the body propagates bare.
TEST(TaskGroup, SystemExitPropagatesBare) {
  asyncio::run([]() -> asyncio::Coroutine<void> {
    EXPECT_THROW(co_await asyncio::task_group([](asyncio::TaskGroup& tg) -> asyncio::Coroutine<void> {
      tg.create_task(after(1h, 0));
      co_await asyncio::sleep(0s);
      throw pyconc::SystemExit(3);
    }),
                 pyconc::SystemExit);
  });
}

// covers TG-07, TG-08: children may add tasks while the group waits at exit; create_task
// is refused before entry, after the end, and while shutting down.
TEST(TaskGroup, WhenTasksMayBeCreated) {
  asyncio::run([]() -> asyncio::Coroutine<void> {
    asyncio::TaskGroup group;
    EXPECT_THROW(group.create_task(after(0ms, 0)), pyconc::RuntimeError);
    std::vector<int> ran;
    co_await group.run([&](asyncio::TaskGroup& tg) -> asyncio::Coroutine<void> {
      tg.create_task([&tg, &ran]() -> asyncio::Coroutine<void> {
        co_await asyncio::sleep(1ms);
        ran.push_back(1);
        tg.create_task([&ran]() -> asyncio::Coroutine<void> {  // while the group waits at exit
          ran.push_back(2);
          co_return;
        });
      });
      co_return;
    });
    EXPECT_THAT(ran, ElementsAre(1, 2));
    try {
      group.create_task(after(0ms, 0));
      ADD_FAILURE();
    } catch (const pyconc::RuntimeError& e) {
      EXPECT_THAT(e.what(), HasSubstr("is finished"));
    }
    std::string shutting_down;
    try {
      co_await asyncio::task_group([&](asyncio::TaskGroup& tg) -> asyncio::Coroutine<void> {
        tg.create_task(fail_after(0ms, "x"));
        try {
          co_await asyncio::sleep(1h);
        } catch (const asyncio::CancelledError&) {
          try {
            tg.create_task(after(0ms, 0));
          } catch (const pyconc::RuntimeError& e) {
            shutting_down = e.what();
          }
          throw;
        }
      });
    } catch (const pyconc::ExceptionGroup&) {
    }
    EXPECT_THAT(shutting_down, HasSubstr("shutting down"));
    EXPECT_THROW(co_await group.run([](asyncio::TaskGroup&) -> asyncio::Coroutine<void> { co_return; }),
                 pyconc::RuntimeError);  // entered twice
  });
}

// covers TMO-01, TMO-02: the deadline passing raises TimeoutError out of the block and
// expired() is true; timeout_at takes loop time; none disables it.
TEST(Timeout, TheDeadlineRaisesTimeoutError) {
  asyncio::run([]() -> asyncio::Coroutine<void> {
    bool saw_cancel = false;
    EXPECT_THROW(co_await asyncio::timeout(10ms, [&]() -> asyncio::Coroutine<void> {
      try {
        co_await asyncio::sleep(1h);
      } catch (const asyncio::CancelledError&) {
        saw_cancel = true;
        throw;
      }
    }),
                 pyconc::TimeoutError);
    EXPECT_TRUE(saw_cancel);
    auto& loop = asyncio::get_running_loop();
    asyncio::Timeout cm(loop.time() + 0.01);
    EXPECT_THROW(co_await cm.run([]() -> asyncio::Coroutine<void> { co_await asyncio::sleep(1h); }), pyconc::TimeoutError);
    EXPECT_TRUE(cm.expired());
    const int x = co_await asyncio::timeout(std::nullopt, [](asyncio::Timeout& t) -> asyncio::Coroutine<int> {
      EXPECT_EQ(t.when(), std::nullopt);
      co_return co_await after(1ms, 5);
    });
    EXPECT_EQ(x, 5);
  });
}

// covers TMO-03: a zero timeout fires at the block's next await, even sleep(0); a block that
// never awaits finishes normally.
TEST(Timeout, AZeroTimeoutFiresAtTheNextAwait) {
  asyncio::run([]() -> asyncio::Coroutine<void> {
    EXPECT_THROW(co_await asyncio::timeout(0s, []() -> asyncio::Coroutine<void> { co_await asyncio::sleep(0s); }),
                 pyconc::TimeoutError);
    EXPECT_EQ(co_await asyncio::timeout(-1s, []() -> asyncio::Coroutine<int> { co_return 4; }), 4);
    co_await asyncio::sleep(0s);  // and the task is not left cancelled
  });
}

// covers TMO-04: nested timeouts with one deadline: only the outer raises; an inner
// TimeoutError caught in the block does not stop the outer deadline.
TEST(Timeout, NestedTimeouts) {
  asyncio::run([]() -> asyncio::Coroutine<void> {
    auto& loop = asyncio::get_running_loop();
    const double when = loop.time() + 0.01;
    asyncio::Timeout outer(when), inner(when);
    EXPECT_THROW(co_await outer.run([&]() -> asyncio::Coroutine<void> {
      co_await inner.run([]() -> asyncio::Coroutine<void> { co_await asyncio::sleep(1h); });
    }),
                 pyconc::TimeoutError);
    EXPECT_TRUE(outer.expired());
    EXPECT_TRUE(inner.expired());
    bool caught_inner = false;
    EXPECT_THROW(co_await asyncio::timeout(30ms, [&]() -> asyncio::Coroutine<void> {
      try {
        co_await asyncio::timeout(1ms, []() -> asyncio::Coroutine<void> { co_await asyncio::sleep(1h); });
      } catch (const pyconc::TimeoutError&) {
        caught_inner = true;
      }
      co_await asyncio::sleep(1h);
    }),
                 pyconc::TimeoutError);
    EXPECT_TRUE(caught_inner);
  });
}

// covers TMO-05, TMO-06: other exceptions pass unchanged; a cancel from outside before the
// deadline stays a CancelledError.
TEST(Timeout, OtherExceptionsAndForeignCancels) {
  asyncio::run([]() -> asyncio::Coroutine<void> {
    asyncio::Timeout cm(asyncio::get_running_loop().time() + 3600);
    EXPECT_THROW(co_await cm.run([]() -> asyncio::Coroutine<void> {
      co_await asyncio::sleep(0s);
      throw pyconc::ValueError("mine");
    }),
                 pyconc::ValueError);
    EXPECT_FALSE(cm.expired());
    auto task = asyncio::create_task([]() -> asyncio::Coroutine<void> {
      co_await asyncio::timeout(1h, []() -> asyncio::Coroutine<void> { co_await asyncio::sleep(1h); });
    });
    co_await asyncio::sleep(0s);
    co_await asyncio::sleep(0s);
    task.cancel();
    EXPECT_THROW(co_await task, asyncio::CancelledError);
  });
}

// covers TMO-07, TMO-08: reschedule only while entered; entering twice, or outside a task,
// raises RuntimeError.
TEST(Timeout, RescheduleAndEnteringRules) {
  asyncio::Timeout outside(std::nullopt);
  EXPECT_THROW(outside.reschedule(1.0), pyconc::RuntimeError);
  asyncio::run([]() -> asyncio::Coroutine<void> {
    asyncio::Timeout cm(std::nullopt);
    co_await cm.run([&]() -> asyncio::Coroutine<void> {
      cm.reschedule(asyncio::get_running_loop().time() + 3600);
      EXPECT_TRUE(cm.when().has_value());
      cm.reschedule(std::nullopt);
      co_await asyncio::sleep(1ms);
    });
    EXPECT_THROW(cm.reschedule(1.0), pyconc::RuntimeError);
    EXPECT_THROW(co_await cm.run([]() -> asyncio::Coroutine<void> { co_return; }), pyconc::RuntimeError);
    asyncio::Timeout moved(asyncio::get_running_loop().time() + 3600);
    EXPECT_THROW(co_await moved.run([&]() -> asyncio::Coroutine<void> {
      moved.reschedule(asyncio::get_running_loop().time());  // due now
      co_await asyncio::sleep(1h);
    }),
                 pyconc::TimeoutError);
  });
}

}  // namespace
