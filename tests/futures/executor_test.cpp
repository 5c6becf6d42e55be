#include <sys/resource.h>

#include <set>

#include "pyconc/futures.hpp"
#include "support.hpp"

namespace {

using namespace pyconc::testing;
using pyconc::futures::Future;
using pyconc::futures::ThreadPoolExecutor;
using pyconc::futures::ThreadPoolOptions;
namespace futures = pyconc::futures;
using pyconc::threading::Event;
using pyconc::threading::Thread;

int times_ten(int x) { return x * 10; }

// covers EXE-01
TEST(Executor, SubmitReturnsFutureOfResult) {
  ThreadPoolExecutor pool(2);
  auto f = pool.submit(times_ten, 4);
  EXPECT_EQ(f.result(), 40);
  auto g = pool.submit([](const std::string& a, int n) { return a + std::to_string(n); },
                       std::string("x"), 7);
  EXPECT_EQ(g.result(), "x7");
  auto v = pool.submit([] {});
  v.result();
  EXPECT_TRUE(v.done());
}

// covers EXE-02
TEST(Executor, MapYieldsInInputOrderAndZips) {
  ThreadPoolExecutor pool(4);
  auto results = pool.map(times_ten, std::vector{0, 1, 2, 3, 4}).to_vector();
  EXPECT_EQ(results, (std::vector<int>{0, 10, 20, 30, 40}));
  std::vector<int> a{1, 2, 3}, b{10, 20};
  auto sums = pool.map([](int x, int y) { return x + y; }, a, b).to_vector();
  EXPECT_EQ(sums, (std::vector<int>{11, 22}));  // stops at the shortest, like zip
}

// covers EXE-03
TEST(Executor, MapSubmitsEverythingAtOnce) {
  ThreadPoolExecutor pool(2);
  std::atomic<int> calls{0};
  {
    auto never_iterated = pool.map([&](int x) { return calls.fetch_add(1) + x; }, std::vector{1, 2, 3});
    pool.shutdown(true);  // the calls were all submitted before shutdown, so they ran
  }
  EXPECT_EQ(calls.load(), 3);
}

// covers EXE-04
TEST(Executor, MapRethrowsAtPosition) {
  ThreadPoolExecutor pool(2);
  auto results = pool.map([](int x) {
    if (x == 2) throw pyconc::ValueError("two");
    return x;
  }, std::vector{0, 1, 2, 3});
  std::vector<int> seen;
  try {
    for (int r : results) seen.push_back(r);
    FAIL() << "expected ValueError";
  } catch (const pyconc::ValueError& e) {
    EXPECT_STREQ(e.what(), "two");
  }
  EXPECT_EQ(seen, (std::vector<int>{0, 1}));
}

// covers EXE-05, EXE-06
TEST(Executor, MapTimeoutRunsFromTheCallAndCancelsTheRest) {
  ThreadPoolExecutor pool(1);
  Event release;
  std::atomic<int> ran{0};
  Stopwatch sw;
  auto results = pool.map([&](int x) {
    if (x == 0) return x;
    release.wait();
    ran.fetch_add(1);
    return x;
  }, std::vector{0, 1, 2, 3}, 200ms);
  std::vector<int> got;
  try {
    for (int r : results) got.push_back(r);
    FAIL() << "expected TimeoutError";
  } catch (const pyconc::TimeoutError&) {
  }
  expect_timed_wait(sw.elapsed(), 200ms);
  EXPECT_EQ(got, (std::vector<int>{0}));
  release.set();
  pool.shutdown(true);
  EXPECT_EQ(ran.load(), 1);  // only the call already running finished; 2 and 3 were cancelled
}

// covers EXE-07
TEST(Executor, MaxWorkersMustBePositive) {
  try {
    ThreadPoolExecutor bad(0);
    FAIL();
  } catch (const pyconc::ValueError& e) {
    EXPECT_STREQ(e.what(), "max_workers must be greater than 0");
  }
  EXPECT_THROW(ThreadPoolExecutor(-1), pyconc::ValueError);
  // A non-callable initializer is a compile error here (std::function<void()>).
}

// covers EXE-08
TEST(Executor, InitializerRunsInEveryWorkerFirst) {
  pyconc::threading::local<int> initialized;
  std::atomic<int> inits{0};
  ThreadPoolExecutor pool(ThreadPoolOptions{.max_workers = 3, .thread_name_prefix = {},
                                            .initializer = [&] {
                                              *initialized = 1;
                                              inits.fetch_add(1);
                                            }});
  Event gate;
  std::vector<Future<int>> fs;
  for (int i = 0; i < 3; ++i)
    fs.push_back(pool.submit([&] {
      gate.wait(5s);
      return *initialized;
    }));
  gate.set();
  for (auto& f : fs) EXPECT_EQ(f.result(), 1);
  pool.shutdown();
  EXPECT_EQ(inits.load(), static_cast<int>(pool.thread_count()));
}

// covers EXE-09
TEST(Executor, FailingInitializerBreaksThePool) {
  ::testing::internal::CaptureStderr();
  ThreadPoolExecutor pool(ThreadPoolOptions{
      .max_workers = 2, .thread_name_prefix = {},
      .initializer = [] { throw pyconc::RuntimeError("init failed"); }});
  std::vector<Future<int>> fs;
  for (int i = 0; i < 5; ++i) {
    try {
      fs.push_back(pool.submit([] { return 1; }));
    } catch (const futures::BrokenThreadPool&) {
      break;  // the pool broke while we were still submitting
    }
  }
  for (auto& f : fs) EXPECT_THROW(f.result(30s), futures::BrokenThreadPool);
  ASSERT_TRUE(eventually([&] {
    try {
      pool.submit([] { return 1; }).exception();
      return false;
    } catch (const futures::BrokenThreadPool&) {
      return true;
    }
  }));
  pool.shutdown();
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("Exception in initializer:"), std::string::npos) << err;
  static_assert(std::is_base_of_v<futures::BrokenExecutor, futures::BrokenThreadPool>);
}

// covers EXE-10
TEST(Executor, KeepsNoReferenceToTheCallable) {
  auto token = std::make_shared<int>(1);
  std::weak_ptr<int> watch = token;
  ThreadPoolExecutor pool(1);
  auto f = pool.submit([keep = std::move(token)] { return *keep; });
  EXPECT_EQ(f.result(), 1);
  EXPECT_TRUE(watch.expired());  // the future is alive, the callable is gone
  {
    ThreadPoolExecutor scoped(2);
    auto g = scoped.submit(times_ten, 1);
  }  // leaving the scope waits, like a with block
}

// covers SHD-01
TEST(Shutdown, SubmitAfterShutdownIsRuntimeError) {
  ThreadPoolExecutor pool(1);
  pool.shutdown();
  try {
    pool.submit(times_ten, 1);
    FAIL();
  } catch (const pyconc::RuntimeError& e) {
    EXPECT_STREQ(e.what(), "cannot schedule new futures after shutdown");
  }
}

// covers SHD-03
TEST(Shutdown, WaitFinishesAllSubmittedWork) {
  ThreadPoolExecutor pool(3);
  std::vector<Future<int>> fs;
  for (int i = 0; i < 30; ++i)
    fs.push_back(pool.submit([i] {
      std::this_thread::sleep_for(1ms);
      return i;
    }));
  pool.shutdown(true);
  for (int i = 0; i < 30; ++i) {
    ASSERT_TRUE(fs[i].done());
    EXPECT_EQ(fs[i].result(0s), i);
  }
}

// covers SHD-04
TEST(Shutdown, NoWaitReturnsAtOnceButWorkCompletes) {
  ThreadPoolExecutor pool(2);
  Event release;
  std::vector<Future<int>> fs;
  for (int i = 0; i < 6; ++i)
    fs.push_back(pool.submit([&release, i] {
      release.wait();
      return i;
    }));
  Stopwatch sw;
  pool.shutdown(false);
  EXPECT_LT(sw.elapsed().count(), 5.0);
  release.set();
  for (int i = 0; i < 6; ++i) EXPECT_EQ(fs[i].result(30s), i);
}

// covers SHD-05
TEST(Shutdown, CancelFuturesCancelsOnlyUnstarted) {
  ThreadPoolExecutor pool(1);
  Event started, release;
  auto running = pool.submit([&] {
    started.set();
    release.wait();
    return 1;
  });
  started.wait();
  std::vector<Future<int>> queued;
  for (int i = 0; i < 5; ++i) queued.push_back(pool.submit(times_ten, i));
  Thread releaser([&] {
    std::this_thread::sleep_for(20ms);
    release.set();
  });
  releaser.start();
  pool.shutdown(true, true);
  releaser.join();
  EXPECT_EQ(running.result(0s), 1);
  for (auto& f : queued) EXPECT_TRUE(f.cancelled());
  auto [done, not_done] = futures::wait(queued, 0s);
  EXPECT_TRUE(not_done.empty());  // none left pending, and wait() sees them as done
}

// covers SHD-06
TEST(Shutdown, RepeatedAndAfterCancel) {
  ThreadPoolExecutor pool(1);
  Event release;
  auto blocker = pool.submit([&] {
    release.wait();
    return 0;
  });
  auto f = pool.submit(times_ten, 1);
  f.cancel();
  release.set();
  pool.shutdown(true);
  pool.shutdown(true);
  pool.shutdown(false);
  EXPECT_TRUE(f.cancelled());
  EXPECT_EQ(blocker.result(), 0);
}

// covers SHD-08 (C++: the destructor is Python's `with` exit, shutdown(wait=True))
TEST(Shutdown, DroppedExecutorFinishesQueuedWork) {
  std::vector<Future<int>> fs;
  {
    ThreadPoolExecutor pool(2);
    for (int i = 0; i < 10; ++i)
      fs.push_back(pool.submit([i] {
        std::this_thread::sleep_for(1ms);
        return i;
      }));
  }
  for (int i = 0; i < 10; ++i) EXPECT_EQ(fs[i].result(0s), i);
}

// covers TPE-01
TEST(ThreadPool, DefaultMaxWorkers) {
  ThreadPoolExecutor pool;
  EXPECT_EQ(pool.max_workers(), std::min<long>(32, pyconc::os::process_cpu_count() + 4));
}

// covers TPE-02
TEST(ThreadPool, ThreadsStartLazilyAndIdleOnesAreReused) {
  ThreadPoolExecutor pool(4);
  EXPECT_EQ(pool.thread_count(), 0u);
  for (int i = 0; i < 10; ++i) pool.submit(times_ten, i).result();
  EXPECT_EQ(pool.thread_count(), 1u);  // sequential submit-then-wait reuses one thread
  Event release;
  std::vector<Future<int>> fs;
  for (int i = 0; i < 10; ++i)
    fs.push_back(pool.submit([&] {
      release.wait();
      return 0;
    }));
  EXPECT_LE(pool.thread_count(), 4u);
  release.set();
  for (auto& f : fs) f.result();
  EXPECT_EQ(pool.thread_count(), 4u);
}

// covers TPE-03
TEST(ThreadPool, WorkerNames) {
  ThreadPoolExecutor named(ThreadPoolOptions{.max_workers = 2, .thread_name_prefix = "SpecialPool",
                                             .initializer = {}});
  EXPECT_EQ(named.submit([] { return pyconc::threading::current_thread().name(); }).result(),
            "SpecialPool_0");
  ThreadPoolExecutor unnamed(1);
  const std::string name =
      unnamed.submit([] { return pyconc::threading::current_thread().name(); }).result();
  EXPECT_TRUE(name.starts_with("ThreadPoolExecutor-")) << name;
  EXPECT_TRUE(name.ends_with("_0")) << name;
}

// covers TPE-04
TEST(ThreadPool, ExceptionsStoredAndWorkerCarriesOn) {
  ThreadPoolExecutor pool(1);
  auto a = pool.submit([]() -> int { throw pyconc::SystemExit("bye"); });
  auto b = pool.submit([]() -> int { throw 17; });
  auto c = pool.submit(times_ten, 3);
  EXPECT_THROW(a.result(), pyconc::SystemExit);
  EXPECT_THROW(b.result(), int);
  EXPECT_EQ(c.result(), 30);
  // A work item cancelled before it started is skipped.
  Event release;
  auto blocker = pool.submit([&] {
    release.wait();
    return 0;
  });
  std::atomic<bool> ran{false};
  auto skipped = pool.submit([&] {
    ran = true;
    return 1;
  });
  EXPECT_TRUE(skipped.cancel());
  release.set();
  blocker.result();
  pool.shutdown();
  EXPECT_FALSE(ran.load());
}

// Beyond Python: a worker blocked on a future lets a spare take its place, so a recursive
// fan-out deeper than max_workers finishes.
long fan_out(ThreadPoolExecutor& pool, int depth) {
  if (depth == 0) return 1;
  auto left = pool.submit([&pool, depth] { return fan_out(pool, depth - 1); });
  auto right = pool.submit([&pool, depth] { return fan_out(pool, depth - 1); });
  return left.result() + right.result();
}

TEST(ThreadPool, NestedWaitsNeverDeadlock) {
  ThreadPoolExecutor pool(2);
  auto root = pool.submit([&pool] { return fan_out(pool, 8); });
  EXPECT_EQ(root.result(120s), 256);
  // A chain deeper than the pool: each task waits on the next.
  std::function<int(int)> chain = [&](int n) {
    if (n == 0) return 0;
    return pool.submit(chain, n - 1).result() + 1;
  };
  EXPECT_EQ(pool.submit(chain, 20).result(120s), 20);
}

// Beyond Python: the default size follows the CPUs this process may use.
TEST(ThreadPool, DefaultSizeFollowsAffinity) {
  cpu_set_t original;
  ASSERT_EQ(sched_getaffinity(0, sizeof original, &original), 0);
  long result = 0;
  // Restrict a fresh thread (affinity is per thread and inherited) and ask there.
  pyconc::threading::Thread t([&] {
    cpu_set_t one;
    CPU_ZERO(&one);
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu)
      if (CPU_ISSET(cpu, &original)) {
        CPU_SET(cpu, &one);
        break;
      }
    sched_setaffinity(0, sizeof one, &one);
    result = ThreadPoolExecutor::default_max_workers();
  });
  t.start();
  t.join();
  EXPECT_EQ(result, 5);  // min(32, 1 + 4)
}

// Beyond Python: an idle pool burns no CPU (no spinning, no polling timers).
TEST(ThreadPool, IdlePoolBurnsNoCpu) {
  ThreadPoolExecutor pool(4);
  Event release;
  std::vector<Future<int>> fs;
  for (int i = 0; i < 4; ++i)
    fs.push_back(pool.submit([&] {
      release.wait();
      return 0;
    }));
  release.set();
  for (auto& f : fs) f.result();
  ASSERT_EQ(pool.thread_count(), 4u);
  auto cpu_seconds = [] {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
           (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  };
  std::this_thread::sleep_for(50ms);  // let the workers finish their last steps and park
  const double before = cpu_seconds();
  std::this_thread::sleep_for(1s);
  const double used = cpu_seconds() - before;
  EXPECT_LT(used, 0.05) << "an idle pool used " << used << " s of CPU in a second";
}

// Many submitters, random cancels and waits: every future ends done, exactly once.
TEST(ThreadPool, StressSubmitCancelWait) {
  ThreadPoolExecutor pool(3);
  std::atomic<long> ran{0};
  ThreadGroup submitters(4, [&](int id) {
    std::minstd_rand rng(id);
    std::vector<Future<int>> mine;
    for (int i = 0; i < 2000; ++i) {
      mine.push_back(pool.submit([&ran, i] {
        ran.fetch_add(1);
        return i;
      }));
      if (rng() % 7 == 0) mine.back().cancel();
      if (rng() % 50 == 0) jitter(rng);
    }
    for (int i = 0; i < 2000; ++i) {
      if (mine[i].cancelled()) continue;
      EXPECT_EQ(mine[i].result(60s), i);
    }
  });
  submitters.join();
  pool.shutdown();
  EXPECT_GT(ran.load(), 0);
}

}  // namespace
