// asyncio's Lock, Event, Condition, Semaphore, Barrier and queues: FIFO hand-off and every
// cancellation race Python's tests cover.
#include <gmock/gmock.h>

#include <chrono>
#include <string>
#include <vector>

#include "pyconc/asyncio.hpp"

namespace asyncio = pyconc::asyncio;
using namespace std::chrono_literals;
using ::testing::ElementsAre;

namespace {

// Lets every task scheduled so far run a few steps.
asyncio::Coroutine<void> settle() {
  for (int i = 0; i < 5; ++i) co_await asyncio::sleep(0s);
}

// covers ALK-01, ALK-02: acquire gives True; waiters get the lock in FIFO order and a
// newcomer queues behind them, though locked() reads False between release and hand-off.
TEST(AsyncLock, WaitersGetTheLockInFifoOrder) {
  asyncio::run([]() -> asyncio::Coroutine<void> {
    asyncio::Lock lock;
    std::vector<int> order;
    EXPECT_TRUE(co_await lock.acquire());
    std::vector<asyncio::Task<void>> tasks;
    for (int i = 0; i < 3; ++i)
      tasks.push_back(asyncio::create_task([&lock, &order, i]() -> asyncio::Coroutine<void> {
        auto held = co_await lock.hold();
        order.push_back(i);
      }));
    co_await settle();
    lock.release();
    EXPECT_FALSE(lock.locked());  // released; the first waiter has not resumed yet
    auto newcomer = asyncio::create_task([&lock, &order]() -> asyncio::Coroutine<void> {
      auto held = co_await lock.hold();
      order.push_back(9);
    });
    co_await asyncio::gather(tasks);
    co_await newcomer;
    EXPECT_THAT(order, ElementsAre(0, 1, 2, 9));
    EXPECT_THROW(lock.release(), pyconc::RuntimeError);
  });
}

// covers ALK-03: a woken waiter cancelled before it resumes passes the lock on; two tasks
// never hold it at once.
TEST(AsyncLock, AWokenWaiterThatIsCancelledPassesTheLockOn) {
  asyncio::run([]() -> asyncio::Coroutine<void> {
    asyncio::Lock lock;
    int holders = 0, max_holders = 0;
    std::vector<int> got;
    auto worker = [&](int id) -> asyncio::Coroutine<void> {
      auto held = co_await lock.hold();
      max_holders = std::max(max_holders, ++holders);
      got.push_back(id);
      co_await asyncio::sleep(0s);
      --holders;
    };
    co_await lock.acquire();
    auto first = asyncio::create_task(worker(1));
    auto second = asyncio::create_task(worker(2));
    co_await settle();
    lock.release();   // wakes `first`...
    first.cancel();   // ...which is cancelled before it runs
    co_await asyncio::gather(asyncio::return_exceptions, first, second);
    EXPECT_THAT(got, ElementsAre(2));
    EXPECT_EQ(max_holders, 1);
    EXPECT_FALSE(lock.locked());
  });
}

// covers ALK-04: a primitive that waited in one loop raises RuntimeError when it has to wait
// in another (an acquire that does not wait binds nothing, as in Python).
TEST(AsyncLock, ASecondLoopIsRefused) {
  asyncio::Lock lock;
  auto contend = [&]() -> asyncio::Coroutine<void> {
    co_await lock.acquire();
    auto waiter = asyncio::create_task(lock.acquire());
    co_await asyncio::sleep(0s);
    lock.release();
    co_await waiter;
    lock.release();
  };
  asyncio::run([&]() -> asyncio::Coroutine<void> {
    co_await lock.acquire();  // uncontended: binds nothing
    lock.release();
  });
  asyncio::run(contend);   // binds to this run's loop
  EXPECT_THROW(asyncio::run(contend), pyconc::RuntimeError);
}

// covers AEV-01, AEV-02: set() wakes every waiter with True, even if clear() follows at once;
// a cancelled waiter is removed.
TEST(AsyncEvent, SetWakesEveryWaiter) {
  asyncio::run([]() -> asyncio::Coroutine<void> {
    asyncio::Event event;
    std::vector<int> woke;
    std::vector<asyncio::Task<void>> waiters;
    for (int i = 0; i < 3; ++i)
      waiters.push_back(asyncio::create_task([&event, &woke, i]() -> asyncio::Coroutine<void> {
        EXPECT_TRUE(co_await event.wait());
        woke.push_back(i);
      }));
    auto cancelled = asyncio::create_task([&event]() -> asyncio::Coroutine<void> { co_await event.wait(); });
    co_await settle();
    cancelled.cancel();
    co_await asyncio::gather(asyncio::return_exceptions, cancelled);
    event.set();
    event.clear();
    co_await asyncio::gather(waiters);
    EXPECT_THAT(woke, ElementsAre(0, 1, 2));
    EXPECT_FALSE(event.is_set());
  });
}

// covers ACD-01, ACD-02, ACD-04: wait/notify need the lock; notify(n) wakes n in FIFO order,
// each returning only with the lock; wait_for returns at once when already true.
TEST(AsyncCondition, NotifyWakesWaitersInOrderWithTheLock) {
  asyncio::run([]() -> asyncio::Coroutine<void> {
    asyncio::Lock shared;
    asyncio::Condition condition(shared);
    EXPECT_THROW(co_await condition.wait(), pyconc::RuntimeError);
    EXPECT_THROW(condition.notify(), pyconc::RuntimeError);
    EXPECT_TRUE(co_await condition.wait_for([] { return true; }));  // without the lock
    std::vector<int> woke;
    std::vector<asyncio::Task<void>> waiters;
    for (int i = 0; i < 3; ++i)
      waiters.push_back(asyncio::create_task([&condition, &woke, i]() -> asyncio::Coroutine<void> {
        auto held = co_await condition.hold();
        EXPECT_TRUE(co_await condition.wait());
        EXPECT_TRUE(condition.locked());
        woke.push_back(i);
      }));
    co_await settle();
    {
      auto held = co_await condition.hold();
      EXPECT_TRUE(shared.locked());  // the condition's lock is the one given
      condition.notify(2);
    }
    co_await settle();
    EXPECT_THAT(woke, ElementsAre(0, 1));
    {
      auto held = co_await condition.hold();
      condition.notify_all();
    }
    co_await asyncio::gather(waiters);
    EXPECT_THAT(woke, ElementsAre(0, 1, 2));
  });
}

// covers ACD-03: a cancelled wait re-acquires the lock before the CancelledError goes on,
// also when the cancel comes after the notify; a TimeoutError from wait_for likewise.
TEST(AsyncCondition, ACancelledWaitTakesTheLockBack) {
  asyncio::run([]() -> asyncio::Coroutine<void> {
    asyncio::Condition condition;
    bool locked_when_cancelled = false;
    auto waiter = asyncio::create_task([&]() -> asyncio::Coroutine<void> {
      auto held = co_await condition.hold();
      try {
        co_await condition.wait();
      } catch (const asyncio::CancelledError&) {
        locked_when_cancelled = condition.locked();
        throw;
      }
    });
    co_await settle();
    {
      auto held = co_await condition.hold();
      condition.notify();
      waiter.cancel();  // after the notify, while we hold the lock
    }
    co_await asyncio::gather(asyncio::return_exceptions, waiter);
    EXPECT_TRUE(waiter.cancelled());
    EXPECT_TRUE(locked_when_cancelled);
    EXPECT_FALSE(condition.locked());
    bool locked_on_timeout = false;
    {
      auto held = co_await condition.hold();
      try {
        co_await asyncio::wait_for(condition.wait(), 5ms);
      } catch (const pyconc::TimeoutError&) {
        locked_on_timeout = condition.locked();
      }
    }
    EXPECT_TRUE(locked_on_timeout);
  });
}

// covers ASEM-01, ASEM-02, ASEM-04: value rules; locked() while waiters queue; strict FIFO;
// BoundedSemaphore's bound.
TEST(AsyncSemaphore, UnitsGoToTheOldestWaiter) {
  asyncio::run([]() -> asyncio::Coroutine<void> {
    EXPECT_THROW(asyncio::Semaphore(-1), pyconc::ValueError);
    EXPECT_TRUE(asyncio::Semaphore(0).locked());
    asyncio::Semaphore semaphore(1);
    std::vector<int> order;
    co_await semaphore.acquire();
    std::vector<asyncio::Task<void>> tasks;
    for (int i = 0; i < 3; ++i)
      tasks.push_back(asyncio::create_task([&semaphore, &order, i]() -> asyncio::Coroutine<void> {
        auto held = co_await semaphore.hold();
        order.push_back(i);
      }));
    co_await settle();
    EXPECT_TRUE(semaphore.locked());
    semaphore.release();
    co_await semaphore.acquire();  // releases and re-acquires: behind the queued waiters
    order.push_back(9);
    semaphore.release();
    co_await asyncio::gather(tasks);
    EXPECT_THAT(order, ElementsAre(0, 1, 2, 9));
    asyncio::BoundedSemaphore bounded(1);
    EXPECT_THROW(bounded.release(), pyconc::ValueError);
    asyncio::Semaphore plain(0);
    plain.release();
    EXPECT_EQ(plain.value(), 1);
  });
}

// covers ASEM-03: a waiter cancelled after being woken passes its unit on; nothing hangs.
TEST(AsyncSemaphore, AWokenWaiterThatIsCancelledPassesItsUnitOn) {
  asyncio::run([]() -> asyncio::Coroutine<void> {
    asyncio::Semaphore semaphore(0);
    bool second_got_it = false;
    auto first = asyncio::create_task([&semaphore]() -> asyncio::Coroutine<void> { co_await semaphore.acquire(); });
    auto second = asyncio::create_task([&]() -> asyncio::Coroutine<void> {
      co_await semaphore.acquire();
      second_got_it = true;
    });
    co_await settle();
    semaphore.release();  // to `first`...
    first.cancel();       // ...cancelled before it resumes
    co_await asyncio::wait_for(second, 60s);
    EXPECT_TRUE(second_got_it);
    EXPECT_TRUE(first.cancelled());
  });
}

// covers ABAR-01, ABAR-02: parties rule; distinct indices; tasks arriving while it drains
// wait for the next cycle.
TEST(AsyncBarrier, GivesDistinctIndicesPerCycle) {
  EXPECT_THROW(asyncio::Barrier(0), pyconc::ValueError);
  asyncio::run([]() -> asyncio::Coroutine<void> {
    asyncio::Barrier barrier(3);
    std::vector<asyncio::Task<std::int64_t>> tasks;
    for (int i = 0; i < 6; ++i)
      tasks.push_back(asyncio::create_task([&barrier]() -> asyncio::Coroutine<std::int64_t> { co_return co_await barrier.wait(); }));
    auto indices = co_await asyncio::gather(tasks);
    std::sort(indices.begin(), indices.end());
    EXPECT_THAT(indices, ElementsAre(0, 0, 1, 1, 2, 2));
    EXPECT_EQ(barrier.n_waiting(), 0);
  });
}

// covers ABAR-03, ABAR-04: a cancelled waiter lowers n_waiting without breaking the barrier;
// reset() fails the waiters and leaves it usable; abort() breaks it until reset().
TEST(AsyncBarrier, CancelResetAndAbort) {
  asyncio::run([]() -> asyncio::Coroutine<void> {
    asyncio::Barrier barrier(2);
    auto waiting = asyncio::create_task([&barrier]() -> asyncio::Coroutine<std::int64_t> { co_return co_await barrier.wait(); });
    co_await settle();
    EXPECT_EQ(barrier.n_waiting(), 1);
    waiting.cancel();
    co_await asyncio::gather(asyncio::return_exceptions, waiting);
    EXPECT_EQ(barrier.n_waiting(), 0);
    EXPECT_FALSE(barrier.broken());
    auto reset_victim = asyncio::create_task([&barrier]() -> asyncio::Coroutine<std::int64_t> { co_return co_await barrier.wait(); });
    co_await settle();
    co_await barrier.reset();
    EXPECT_THROW(co_await reset_victim, asyncio::BrokenBarrierError);
    EXPECT_FALSE(barrier.broken());
    co_await barrier.abort();
    EXPECT_TRUE(barrier.broken());
    EXPECT_THROW(co_await barrier.wait(), asyncio::BrokenBarrierError);
    co_await barrier.reset();
    EXPECT_FALSE(barrier.broken());
  });
}

// covers AQ-01, AQ-02: the three orders; maxsize; put waits while full; nowait errors;
// blocked putters are served FIFO.
TEST(AsyncQueue, OrdersAndBounds) {
  asyncio::run([]() -> asyncio::Coroutine<void> {
    asyncio::LifoQueue<int> lifo;
    asyncio::PriorityQueue<int> priority;
    for (int x : {2, 3, 1}) {
      lifo.put_nowait(x);
      priority.put_nowait(x);
    }
    EXPECT_EQ(lifo.get_nowait(), 1);
    EXPECT_EQ(priority.get_nowait(), 1);
    asyncio::Queue<int> q(1);
    EXPECT_THROW(q.get_nowait(), asyncio::QueueEmpty);
    q.put_nowait(0);
    EXPECT_TRUE(q.full());
    EXPECT_THROW(q.put_nowait(1), asyncio::QueueFull);
    std::vector<asyncio::Task<void>> putters;
    for (int i = 1; i <= 3; ++i) putters.push_back(asyncio::create_task(q.put(i)));
    co_await settle();
    std::vector<int> got;
    for (int i = 0; i < 4; ++i) got.push_back(co_await q.get());
    EXPECT_THAT(got, ElementsAre(0, 1, 2, 3));
    co_await asyncio::gather(putters);
    asyncio::Queue<int> unbounded(0);
    for (int i = 0; i < 100; ++i) unbounded.put_nowait(i);
    EXPECT_FALSE(unbounded.full());
  });
}

// covers AQ-03, AQ-05: a cancelled getter never loses an item; a get timed out by wait_for
// leaves no getter behind.
TEST(AsyncQueue, ACancelledGetLosesNothing) {
  asyncio::run([]() -> asyncio::Coroutine<void> {
    asyncio::Queue<int> q;
    auto first = asyncio::create_task(q.get());
    auto second = asyncio::create_task(q.get());
    co_await settle();
    q.put_nowait(1);  // wakes `first`...
    first.cancel();   // ...which leaves: the item is for `second`
    EXPECT_EQ(co_await asyncio::wait_for(second, 60s), 1);
    EXPECT_TRUE(first.cancelled());
    EXPECT_THROW(co_await asyncio::wait_for(q.get(), 5ms), pyconc::TimeoutError);
    q.put_nowait(2);
    EXPECT_EQ(q.get_nowait(), 2);  // no stale getter took it
  });
}

// covers AQ-04: a cancelled put loses neither a slot nor a wake-up.
TEST(AsyncQueue, ACancelledPutLosesNothing) {
  asyncio::run([]() -> asyncio::Coroutine<void> {
    asyncio::Queue<int> q(1);
    q.put_nowait(0);
    auto first = asyncio::create_task(q.put(1));
    auto second = asyncio::create_task(q.put(2));
    co_await settle();
    EXPECT_EQ(q.get_nowait(), 0);  // wakes `first`...
    first.cancel();                // ...which leaves: the slot is for `second`
    co_await asyncio::wait_for(second, 60s);
    EXPECT_EQ(q.get_nowait(), 2);
    EXPECT_TRUE(first.cancelled());
  });
}

// covers AQ-06, AQ-07: task_done/join; shutdown.
TEST(AsyncQueue, TaskDoneJoinAndShutdown) {
  asyncio::run([]() -> asyncio::Coroutine<void> {
    asyncio::Queue<int> q;
    EXPECT_THROW(q.task_done(), pyconc::ValueError);
    co_await q.join();  // nothing unfinished: at once
    q.put_nowait(1);
    q.put_nowait(2);
    auto joiner = asyncio::create_task(q.join());
    co_await settle();
    EXPECT_FALSE(joiner.done());
    q.get_nowait();
    q.task_done();
    q.get_nowait();
    q.task_done();
    co_await asyncio::wait_for(joiner, 60s);
    auto blocked = asyncio::create_task(q.get());
    co_await settle();
    q.put_nowait(3);
    co_await blocked;
    q.task_done();
    q.put_nowait(4);
    q.shutdown();
    EXPECT_THROW(q.put_nowait(5), asyncio::QueueShutDown);
    EXPECT_EQ(co_await q.get(), 4);  // what is left drains
    EXPECT_THROW(co_await q.get(), asyncio::QueueShutDown);
    asyncio::Queue<int> immediate;
    immediate.put_nowait(1);
    auto waiting_get = asyncio::create_task([]() -> asyncio::Coroutine<void> { co_return; }());
    immediate.shutdown(true);
    EXPECT_TRUE(immediate.empty());
    co_await immediate.join();  // the discarded item counted as done
    co_await waiting_get;
  });
}

}  // namespace
