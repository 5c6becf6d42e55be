// Waiting inside the pool keeps Python's promises: a worker blocked on a future keeps its
// timeout and never runs other work on its own stack (so the locks it holds stay its own);
// spares stand in for blocked workers, so nested waits still finish. Each of these hung,
// overran or crashed when a waiting worker ran queued tasks itself.
#include <functional>

#include "pyconc/futures.hpp"
#include "support.hpp"

namespace {

using namespace pyconc::testing;
using pyconc::futures::Future;
using pyconc::futures::ThreadPoolExecutor;
using pyconc::threading::Event;
using pyconc::threading::Lock;
using pyconc::threading::RLock;

// result(100ms) inside a task returns after ~100 ms even when the pool has other work
// queued: the waiting worker does not pick up the queued task (which would block it until
// the gate opens, after the wait should long be over).
TEST(PoolBlocking, ResultTimeoutInsideATaskIsKept) {
  Event gate;  // declared first: it outlives the pool, whose worker is still leaving wait()
  ThreadPoolExecutor pool(1);
  auto outer = pool.submit([&] {
    auto inner = pool.submit([&] {
      gate.wait();
      return 1;
    });
    Stopwatch watch;
    try {
      inner.result(100ms);
      return Seconds(-1);
    } catch (const pyconc::TimeoutError&) {
      return watch.elapsed();
    }
  });
  const Seconds took = outer.result(60s);
  gate.set();
  expect_timed_wait(took, 100ms);
}

// A task holding a Lock waits with a timeout for a task that needs the same Lock: Python
// returns after the timeout (the other task runs on another thread and waits for the lock).
TEST(PoolBlocking, WaitingWhileHoldingALockTimesOut) {
  Lock lock;  // declared first: the second task still takes it after the first returns
  ThreadPoolExecutor pool(1);
  auto outer = pool.submit([&] {
    std::scoped_lock hold(lock);
    auto needs_lock = pool.submit([&] {
      std::scoped_lock inner(lock);
      return 2;
    });
    try {
      needs_lock.result(100ms);
      return std::string("no timeout");
    } catch (const pyconc::TimeoutError&) {
      return std::string("timed out");
    }
  });
  EXPECT_EQ(outer.result(60s), "timed out");
}

// An RLock held by a waiting task must not be re-entered by a queued task: mutual
// exclusion holds (a helper running the task on the same OS thread re-entered it).
TEST(PoolBlocking, RLockHeldByAWaitingTaskStaysExclusive) {
  ThreadPoolExecutor pool(1);
  RLock rlock;
  auto outer = pool.submit([&] {
    std::scoped_lock hold(rlock);
    auto other = pool.submit([&] {
      const bool got = rlock.acquire(false);
      if (got) rlock.release();
      return got;
    });
    return other.result(60s);
  });
  EXPECT_FALSE(outer.result(60s)) << "a queued task acquired an RLock another task holds";
}

// A task waits on a future from outside the pool; a queued task must still run (it sets
// the Event the test waits for) without waiting for the first to finish.
TEST(PoolBlocking, QueuedWorkRunsWhileATaskWaitsOnAnOutsideFuture) {
  ThreadPoolExecutor pool(1);
  Future<int> outside;
  outside.set_running_or_notify_cancel();
  Event queued_ran;
  auto waiting = pool.submit([&] { return outside.result(); });
  pool.submit([&] { queued_ran.set(); });
  EXPECT_TRUE(queued_ran.wait(30s));
  outside.set_result(7);
  EXPECT_EQ(waiting.result(60s), 7);
}

// Deep recursion, each level submitting the next and waiting: no stack overflow (each
// level waits on its own thread) and no deadlock up to MAX_SPARE_WORKERS levels.
TEST(PoolBlocking, DeepRecursiveSubmitAndResult) {
  ThreadPoolExecutor pool(2);
  std::function<int(int)> descend = [&](int n) {
    if (n == 0) return 0;
    return pool.submit(descend, n - 1).result() + 1;
  };
  EXPECT_EQ(pool.submit(descend, 200).result(120s), 200);
  // The spares retire once the recursion unwinds, one per finished task.
  for (int i = 0; i < 400; ++i) pool.submit([] {}).result();
  EXPECT_LE(pool.thread_count(), 2u + 1u);
}

// Spares keep at most max_workers tasks running unblocked at a time.
TEST(PoolBlocking, SparesDoNotRaiseTheParallelism) {
  ThreadPoolExecutor pool(2);
  std::atomic<int> running{0}, most{0};
  Event gate;
  Future<int> outside;
  outside.set_running_or_notify_cancel();
  auto blocked = pool.submit([&] { return outside.result(); });
  std::vector<Future<void>> fs;
  for (int i = 0; i < 50; ++i)
    fs.push_back(pool.submit([&] {
      const int now = running.fetch_add(1) + 1;
      int seen = most.load();
      while (now > seen && !most.compare_exchange_weak(seen, now)) {
      }
      std::this_thread::sleep_for(1ms);
      running.fetch_sub(1);
    }));
  for (auto& f : fs) f.result(60s);
  outside.set_result(1);
  blocked.result(60s);
  EXPECT_LE(most.load(), 2);
  EXPECT_GE(most.load(), 1);
}

// Two workers of the same pool both call shutdown(wait=true): neither waits for the other.
TEST(PoolBlocking, ShutdownFromTwoWorkersReturns) {
  ThreadPoolExecutor pool(2);
  pyconc::threading::Barrier both(2);
  auto a = pool.submit([&] {
    both.wait();
    pool.shutdown(true);
    return 1;
  });
  auto b = pool.submit([&] {
    both.wait();
    pool.shutdown(true);
    return 2;
  });
  EXPECT_EQ(a.result(60s) + b.result(60s), 3);
}

// Destroying an executor from one of its own tasks: documented to return at once; the
// worker runs on in the pool's state, not in freed memory (ASan reported a use-after-free).
TEST(PoolBlocking, ExecutorDestroyedFromItsOwnTask) {
  Event done;
  auto* pool = new ThreadPoolExecutor(2);
  pool->submit([] { std::this_thread::sleep_for(1ms); });
  auto queued = pool->submit([] { return 5; });
  pool->submit([pool, &done] {
    delete pool;
    done.set();
  });
  EXPECT_TRUE(done.wait(60s));
  EXPECT_EQ(queued.result(60s), 5);  // work queued before the destruction still completes
}

}  // namespace
