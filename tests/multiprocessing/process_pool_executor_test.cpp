// concurrent.futures.ProcessPoolExecutor (spec PPE-01..11, and the executor rules it shares
// with the thread pool), under every start method.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <set>
#include <thread>

#include "mp_support.hpp"
#include "worker_functions.hpp"
#include "pyconc/futures.hpp"
#include "pyconc/os.hpp"
#include "pyconc/report.hpp"

namespace mp = pyconc::multiprocessing;
namespace futures = pyconc::futures;
using namespace std::chrono_literals;
using pyconc::testing::TempPath;

namespace {

using namespace pyconc::testing::workers;

std::string my_name(int) { return mp::current_process().name(); }
int raise_value_error(int) { throw pyconc::ValueError("bad value 7"); }
int exit_with(int code) { throw pyconc::SystemExit(code); }
int crash_after(int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  std::_Exit(3);
}

using pyconc::testing::RefusesToPickle;
int take_save_refuses(RefusesToPickle s) { return s.x; }
RefusesToPickle make_save_refuses(int x) { return {x}; }

// Pickles fine, but refuses to be loaded: a result the parent cannot unpickle.
struct LoadRefuses {
  int x = 0;
  template <class Archive>
  void save(Archive& archive) const {
    archive(x);
  }
  template <class Archive>
  void load(Archive& archive) {
    archive(x);
    if (x < 0) throw std::runtime_error("refuses to be unpickled");
  }
};
LoadRefuses make_load_refuses(int x) { return {x}; }
int take_load_refuses(LoadRefuses l) { return l.x; }

class ProcessPoolTest : public pyconc::testing::EveryStartMethod {
 protected:
  futures::ProcessPoolOptions options() const { return {.mp_context = context()}; }
  void SetUp() override {
    if (fork_with_threads_unsupported()) GTEST_SKIP() << "forking a threaded process under a sanitizer";
  }
};
PYCONC_EVERY_START_METHOD(ProcessPoolTest);

// covers PPE-01, EXE-07: the default size is the CPUs this process may use; 0 or less is a
// ValueError.
TEST_P(ProcessPoolTest, DefaultSizeAndBadSizes) {
  EXPECT_THROW(futures::ProcessPoolExecutor(0, options()), pyconc::ValueError);
  EXPECT_THROW(futures::ProcessPoolExecutor(-1, options()), pyconc::ValueError);
  futures::ProcessPoolExecutor pool(std::nullopt, options());
  std::vector<futures::Future<int>> fs;
  for (int i = 0; i < 20; ++i) fs.push_back(pool.submit(sleep_ms, 20));
  for (auto& f : fs) f.result();
  EXPECT_LE(static_cast<long>(pool.worker_pids().size()), pyconc::os::process_cpu_count());
}

// covers EXE-01, EXE-02: submit returns a future of the result; map gives results in order;
// the futures work with wait() and as_completed().
TEST_P(ProcessPoolTest, SubmitMapWaitAsCompleted) {
  futures::ProcessPoolExecutor pool(2, options());
  auto f = pool.submit(add, 40, 2);
  EXPECT_EQ(f.result(), 42);
  std::vector<int> results;
  for (int r : pool.map(square, std::vector{1, 2, 3, 4})) results.push_back(r);
  EXPECT_EQ(results, (std::vector<int>{1, 4, 9, 16}));
  std::vector<futures::Future<int>> fs;
  for (int i = 0; i < 6; ++i) fs.push_back(pool.submit(square, i));
  auto [done, not_done] = futures::wait(fs);
  EXPECT_EQ(done.size(), 6u);
  EXPECT_TRUE(not_done.empty());
  int sum = 0;
  for (auto& g : futures::as_completed(fs)) sum += g.result();
  EXPECT_EQ(sum, 0 + 1 + 4 + 9 + 16 + 25);
}

// covers PPE-02, PPE-04: a worker killed abruptly, or crashing while it runs fn, fails every
// running and pending future with BrokenProcessPool; later submits raise it.
TEST_P(ProcessPoolTest, KilledWorkerBreaksThePool) {
  futures::ProcessPoolExecutor pool(2, options());
  TempPath file("ppe-kill");
  auto running = pool.submit(announce_and_sleep, file.path(), 60'000);
  ASSERT_TRUE(file.wait_exists());
  std::vector<futures::Future<int>> pending;
  for (int i = 0; i < 5; ++i) pending.push_back(pool.submit(sleep_ms, 10'000));
  ASSERT_EQ(::kill(static_cast<pid_t>(std::stol(file.read())), SIGKILL), 0);
  EXPECT_THROW(running.result(60s), futures::BrokenProcessPool);
  for (auto& f : pending) EXPECT_THROW(f.result(60s), futures::BrokenProcessPool);
  EXPECT_THROW(pool.submit(square, 1), futures::BrokenProcessPool);
  EXPECT_THROW(pool.submit(square, 1), futures::BrokenExecutor);  // its base, as in Python
}

TEST_P(ProcessPoolTest, CrashInsideTheCallBreaksThePool) {
  futures::ProcessPoolExecutor pool(2, options());
  auto f = pool.submit(crash_after, 0);
  EXPECT_THROW(f.result(60s), futures::BrokenProcessPool);
  EXPECT_THROW(pool.submit(square, 1), futures::BrokenProcessPool);
}

// covers PPE-03: fn's exception is re-raised in the parent with its type and message.
TEST_P(ProcessPoolTest, ExceptionKeepsItsType) {
  futures::ProcessPoolExecutor pool(1, options());
  auto f = pool.submit(raise_value_error, 0);
  try {
    f.result();
    ADD_FAILURE();
  } catch (const pyconc::ValueError& e) {
    EXPECT_STREQ(e.what(), "bad value 7");
  }
  EXPECT_EQ(pool.submit(square, 3).result(), 9);  // the pool goes on
}

// covers PPE-05: SystemExit inside fn is that future's exception, not a broken pool.
TEST_P(ProcessPoolTest, SystemExitIsTheFuturesException) {
  futures::ProcessPoolExecutor pool(1, options());
  auto f = pool.submit(exit_with, 4);
  try {
    f.result();
    ADD_FAILURE();
  } catch (const pyconc::SystemExit& e) {
    EXPECT_EQ(e.exit_code(), 4);
  }
  EXPECT_EQ(pool.submit(square, 5).result(), 25);
}

// covers PPE-06: arguments that cannot be pickled fail that future with PicklingError; a
// result that cannot be pickled fails its future with PicklingError; both leave the pool
// working. A result the parent cannot unpickle breaks the pool.
TEST_P(ProcessPoolTest, SerializationFailures) {
  futures::ProcessPoolExecutor pool(2, options());
  EXPECT_THROW(pool.submit(take_save_refuses, RefusesToPickle{-1}).result(), pyconc::pickle::PicklingError);
  EXPECT_EQ(pool.submit(take_save_refuses, RefusesToPickle{3}).result(), 3);
  EXPECT_THROW(pool.submit(make_save_refuses, -1).result(), pyconc::pickle::PicklingError);
  EXPECT_EQ(pool.submit(make_save_refuses, 2).result().x, 2);
  EXPECT_EQ(pool.submit(make_load_refuses, 1).result().x, 1);
  // covers PPE-04: arguments the worker cannot unpickle fail that call (cereal does not
  // crash on them), and the pool goes on.
  EXPECT_THROW(pool.submit(take_load_refuses, LoadRefuses{-1}).result(), pyconc::pickle::UnpicklingError);
  EXPECT_EQ(pool.submit(take_load_refuses, LoadRefuses{6}).result(), 6);
  EXPECT_THROW(pool.submit(make_load_refuses, -1).result(60s), futures::BrokenProcessPool);
  EXPECT_THROW(pool.submit(square, 1), futures::BrokenProcessPool);
}

// covers PPE-07: a worker crashing after shutdown(wait=true) began does not deadlock the
// shutdown; its future gets BrokenProcessPool.
TEST_P(ProcessPoolTest, CrashDuringShutdownDoesNotDeadlock) {
  futures::ProcessPoolExecutor pool(2, options());
  auto f = pool.submit(crash_after, 300);
  pool.shutdown(true);
  EXPECT_TRUE(f.done());
  EXPECT_THROW(f.result(), futures::BrokenProcessPool);
}

// covers PPE-08: chunksize < 1 is a ValueError; chunksizes 6, 40 and 50 give chunksize 1's
// results.
TEST_P(ProcessPoolTest, MapChunksize) {
  futures::ProcessPoolExecutor pool(2, options());
  std::vector<int> input(100);
  for (int i = 0; i < 100; ++i) input[i] = i;
  auto expected = pool.map(square, input).to_vector();
  ASSERT_EQ(expected.size(), 100u);
  EXPECT_EQ(expected[99], 99 * 99);
  for (std::size_t chunksize : {6, 40, 50}) EXPECT_EQ(pool.map(square, input, pyconc::forever, chunksize).to_vector(), expected);
  EXPECT_THROW(pool.map(square, input, pyconc::forever, 0), pyconc::ValueError);
  EXPECT_THROW(pool.map(sleep_ms, std::vector{2000}, 50ms).to_vector(), pyconc::TimeoutError);  // EXE-05
}

// covers PPE-09: workers start on demand and idle ones are reused (never more than
// max_workers); under fork all start at once.
TEST_P(ProcessPoolTest, WorkersStartOnDemandExceptUnderFork) {
  futures::ProcessPoolExecutor pool(3, options());
  if (GetParam() == "fork") {
    EXPECT_EQ(pool.worker_pids().size(), 3u);
  } else {
    EXPECT_TRUE(pool.worker_pids().empty());
    for (int i = 0; i < 10; ++i) EXPECT_EQ(pool.submit(square, i).result(), i * i);
    EXPECT_EQ(pool.worker_pids().size(), 1u);  // sequential submit-then-wait reuses one
  }
  std::vector<futures::Future<int>> fs;
  for (int i = 0; i < 12; ++i) fs.push_back(pool.submit(sleep_ms, 30));
  for (auto& f : fs) f.result();
  EXPECT_LE(pool.worker_pids().size(), 3u);
}

// covers PPE-10: max_tasks_per_child replaces a worker (new pid) after N tasks; N <= 0 is a
// ValueError, so is a fork context; without a context the workers are spawned.
TEST_P(ProcessPoolTest, MaxTasksPerChild) {
  EXPECT_THROW(futures::ProcessPoolExecutor(1, {.mp_context = context(), .max_tasks_per_child = 0}),
               pyconc::ValueError);
  if (GetParam() == "fork") {
    EXPECT_THROW(futures::ProcessPoolExecutor(1, {.mp_context = context(), .max_tasks_per_child = 1}),
                 pyconc::ValueError);
    futures::ProcessPoolExecutor defaulted(1, {.max_tasks_per_child = 1});
    EXPECT_EQ(defaulted.submit(my_name, 0).result().rfind("SpawnProcess-", 0), 0u);
    return;
  }
  futures::ProcessPoolExecutor pool(1, {.mp_context = context(), .max_tasks_per_child = 2});
  std::set<int> pids;
  for (int i = 0; i < 6; ++i) pids.insert(pool.submit(my_pid, 0).result());
  EXPECT_EQ(pids.size(), 3u);
}

// covers PPE-11: shutting down early with max_tasks_per_child=1 still completes everything.
TEST_P(ProcessPoolTest, EarlyShutdownWithOneTaskPerChild) {
  if (GetParam() == "fork") GTEST_SKIP() << "max_tasks_per_child does not take fork";
  futures::ProcessPoolExecutor pool(2, {.mp_context = context(), .max_tasks_per_child = 1});
  std::vector<futures::Future<int>> fs;
  for (int i = 0; i < 8; ++i) fs.push_back(pool.submit(square, i));
  pool.shutdown(true);
  for (int i = 0; i < 8; ++i) EXPECT_EQ(fs[i].result(0s), i * i);
}

// covers SHD-01, SHD-05: submit after shutdown raises RuntimeError; cancel_futures cancels what
// has not started and leaves nothing pending.
TEST_P(ProcessPoolTest, ShutdownRules) {
  futures::ProcessPoolExecutor pool(1, options());
  auto running = pool.submit(sleep_ms, 2000);  // still running when shutdown() comes, however loaded
  std::vector<futures::Future<int>> queued;
  for (int i = 0; i < 5; ++i) queued.push_back(pool.submit(sleep_ms, 300));
  pool.shutdown(true, /*cancel_futures=*/true);
  EXPECT_EQ(running.result(0s), 2000);
  int cancelled = 0;
  for (auto& f : queued) {
    EXPECT_TRUE(f.done());
    cancelled += f.cancelled();
  }
  EXPECT_GE(cancelled, 4);  // the first may have been handed out as the running one ended
  EXPECT_THROW(pool.submit(square, 1), pyconc::RuntimeError);
  pool.shutdown();  // again: harmless
}

// A future cancelled before it is handed to a worker never runs.
TEST_P(ProcessPoolTest, CancelledBeforeStartNeverRuns) {
  futures::ProcessPoolExecutor pool(1, options());
  auto blocker = pool.submit(sleep_ms, 2000);  // busy until long after the cancel
  TempPath file("ppe-cancel");
  auto never = pool.submit(announce_and_sleep, file.path(), 0);
  EXPECT_TRUE(never.cancel());
  EXPECT_EQ(blocker.result(), 2000);
  pool.shutdown(true);
  EXPECT_TRUE(never.cancelled());
  EXPECT_NE(::access(file.path().c_str(), F_OK), 0);
}

// covers EXE-09: an initializer that raises fails pending futures with BrokenProcessPool and
// later submits raise it.
TEST_P(ProcessPoolTest, FailingInitializerBreaksThePool) {
  auto previous = pyconc::set_report_sink([](std::string_view) {});
  {
    futures::ProcessPoolExecutor pool(2, {.mp_context = context(), .initializer = mp::Initializer(failing_initializer, 0)});
    EXPECT_THROW(pool.submit(square, 1).result(60s), futures::BrokenProcessPool);
    EXPECT_THROW(pool.submit(square, 1), futures::BrokenProcessPool);
  }
  pyconc::set_report_sink(previous);
}

// Through Executor& any callable is accepted at compile time; a closure cannot cross, so
// the future fails with PicklingError.
TEST_P(ProcessPoolTest, ClosureThroughTheBaseClassFailsItsFuture) {
  futures::ProcessPoolExecutor pool(1, options());
  futures::Executor& any = pool;
  int captured = 3;
  auto f = any.submit([captured] { return captured; });
  EXPECT_THROW(f.result(), pyconc::pickle::PicklingError);
  EXPECT_EQ(pool.submit(square, 2).result(), 4);
}

// Several threads submitting and waiting at once.
TEST_P(ProcessPoolTest, ConcurrentSubmitters) {
  futures::ProcessPoolExecutor pool(2, options());
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        if (i % 7 == 0) std::this_thread::yield();
        if (pool.submit(add, t, i).result() != t + i) ++wrong;
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0);
}

}  // namespace
