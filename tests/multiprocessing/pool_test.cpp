// multiprocessing.Pool and AsyncResult (spec POOL-01..16), under every start method:
// results and their order, callbacks, errors, lifecycle, and workers that die.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <sstream>
#include <set>
#include <stdexcept>
#include <thread>

#include "mp_support.hpp"
#include "worker_functions.hpp"
#include "scenario.hpp"
#include "pyconc/report.hpp"

namespace mp = pyconc::multiprocessing;
using namespace std::chrono_literals;
using pyconc::testing::TempPath;
using pyconc::testing::process_ended;

namespace {

using namespace pyconc::testing::workers;

int fail_on_three(int x) {
  if (x == 3) throw pyconc::ValueError("three is not allowed");
  return x;
}
int out_of_range(int) { throw std::out_of_range("index 7"); }

int initialized_value = 0;
void set_initialized(int value) { initialized_value = value; }
int read_initialized(int) { return initialized_value; }

pyconc::testing::RefusesToPickle make_refuses(int x) { return {x}; }

class PoolTest : public pyconc::testing::EveryStartMethod {
 protected:
  mp::PoolOptions options() const { return {.context = context()}; }
  void SetUp() override {
    if (fork_with_threads_unsupported()) GTEST_SKIP() << "forking a threaded process under a sanitizer";
  }
};
PYCONC_EVERY_START_METHOD(PoolTest);

pid_t wait_for_pid(const TempPath& file) {
  EXPECT_TRUE(file.wait_exists());
  return static_cast<pid_t>(std::stol(file.read()));
}

// covers POOL-01: apply returns the result; apply_async().get() waits; get(timeout) raises
// multiprocessing::TimeoutError, a ProcessError and not pyconc::TimeoutError.
TEST_P(PoolTest, ApplyAndAsyncTimeout) {
  mp::Pool pool(2, options());
  EXPECT_EQ(pool.apply(add, 2, 3), 5);
  EXPECT_EQ(pool.apply_async(square, 7).get(), 49);
  auto slow = pool.apply_async(sleep_ms, 3000);  // far longer than a loaded machine stalls us
  const auto start = std::chrono::steady_clock::now();
  try {
    slow.get(100ms);
    ADD_FAILURE() << "no timeout";
  } catch (const mp::TimeoutError& e) {
    EXPECT_TRUE(dynamic_cast<const mp::ProcessError*>(&e));
    EXPECT_FALSE(dynamic_cast<const pyconc::TimeoutError*>(&e));
  }
  EXPECT_GE(std::chrono::steady_clock::now() - start, 100ms);
  EXPECT_FALSE(slow.ready());
  EXPECT_EQ(slow.get(), 3000);
  EXPECT_TRUE(slow.ready());
  EXPECT_TRUE(slow.successful());
}

// covers POOL-02: map, starmap and map_async give results in input order for any chunksize.
TEST_P(PoolTest, MapStarmapInOrderForAnyChunksize) {
  mp::Pool pool(3, options());
  std::vector<int> input(100);
  for (int i = 0; i < 100; ++i) input[i] = i;
  std::vector<int> expected;
  for (int i : input) expected.push_back(i * i);
  EXPECT_EQ(pool.map(square, input), expected);
  for (std::size_t chunksize : {1, 3, 7, 40, 200}) {
    EXPECT_EQ(pool.map(square, input, chunksize), expected) << chunksize;
    EXPECT_EQ(pool.map_async(square, input, chunksize).get(), expected) << chunksize;
  }
  std::vector<std::tuple<int, int>> pairs{{1, 2}, {3, 4}, {5, 6}};
  EXPECT_EQ(pool.starmap(add, pairs), (std::vector<int>{3, 7, 11}));
  EXPECT_EQ(pool.starmap(add, pairs, 2), (std::vector<int>{3, 7, 11}));
  EXPECT_EQ(pool.starmap_async(add, pairs).get(), (std::vector<int>{3, 7, 11}));
}

// covers POOL-03: map_async calls callback with the list on success, error_callback with
// the exception on failure, never both.
TEST_P(PoolTest, MapAsyncCallbacks) {
  mp::Pool pool(2, options());
  std::atomic<int> successes{0}, failures{0};
  std::vector<int> seen;
  auto ok = pool.map_async(square, std::vector{1, 2, 3}, std::nullopt,
                           {.callback = [&](const std::vector<int>& r) { seen = r, ++successes; },
                            .error_callback = [&](std::exception_ptr) { ++failures; }});
  EXPECT_EQ(ok.get(), (std::vector<int>{1, 4, 9}));
  EXPECT_EQ(seen, (std::vector<int>{1, 4, 9}));  // the callback ran before get() returned
  EXPECT_EQ(successes.load(), 1);
  EXPECT_EQ(failures.load(), 0);

  std::string message;
  auto bad = pool.map_async(fail_on_three, std::vector{1, 2, 3, 4}, 1,
                            {.callback = [&](const std::vector<int>&) { ++successes; },
                             .error_callback =
                                 [&](std::exception_ptr e) {
                                   try {
                                     std::rethrow_exception(e);
                                   } catch (const std::exception& x) {
                                     message = x.what();
                                   }
                                   ++failures;
                                 }});
  EXPECT_THROW(bad.get(), pyconc::ValueError);
  EXPECT_FALSE(bad.successful());
  EXPECT_EQ(message, "three is not allowed");
  EXPECT_EQ(successes.load(), 1);
  EXPECT_EQ(failures.load(), 1);

  std::atomic<int> applied{0};
  EXPECT_EQ(pool.apply_async({.callback = [&](const int& v) { applied = v; }}, square, 6).get(), 36);
  EXPECT_EQ(applied.load(), 36);
}

// covers POOL-04: imap yields in order, imap_unordered yields everything in some order.
TEST_P(PoolTest, ImapAndImapUnordered) {
  mp::Pool pool(2, options());
  std::vector<int> input{5, 1, 4, 2, 3, 0, 9};
  std::vector<int> ordered;
  for (int r : pool.imap(square, input)) ordered.push_back(r);
  EXPECT_EQ(ordered, (std::vector<int>{25, 1, 16, 4, 9, 0, 81}));
  std::multiset<int> unordered;
  for (int r : pool.imap_unordered(square, input, 2)) unordered.insert(r);
  EXPECT_EQ(unordered, (std::multiset<int>{25, 1, 16, 4, 9, 0, 81}));

  auto it = pool.imap(sleep_ms, std::vector{1500});
  EXPECT_THROW(it.next(50ms), mp::TimeoutError);  // and the result is not lost
  EXPECT_EQ(it.next(), std::optional<int>(1500));
  EXPECT_EQ(it.next(), std::nullopt);

  auto failing = pool.imap(fail_on_three, std::vector{1, 2, 3, 4});  // a chunk's error at its turn
  EXPECT_EQ(failing.next(), std::optional<int>(1));
  EXPECT_EQ(failing.next(), std::optional<int>(2));
  EXPECT_THROW(failing.next(), pyconc::ValueError);
  EXPECT_EQ(failing.next(), std::optional<int>(4));
}

// An input range whose iteration throws.
struct ThrowingRange {
  struct iterator {
    int i;
    using value_type = int;
    using difference_type = std::ptrdiff_t;
    int operator*() const {
      if (i == 2) throw pyconc::ValueError("the iterable failed");
      return i;
    }
    iterator& operator++() {
      ++i;
      return *this;
    }
    iterator operator++(int) { return {i++}; }
    bool operator==(const iterator&) const = default;
  };
  iterator begin() const { return {0}; }
  iterator end() const { return {4}; }
};

// covers POOL-05: an exception raised by the input iterable propagates unwrapped (pyconc
// reads the input when map/imap is called, so imap raises it there, before any result).
TEST_P(PoolTest, IterableExceptionPropagatesUnwrapped) {
  mp::Pool pool(2, options());
  EXPECT_THROW(pool.map(square, ThrowingRange{}), pyconc::ValueError);
  EXPECT_THROW(pool.imap(square, ThrowingRange{}), pyconc::ValueError);
  EXPECT_EQ(pool.apply(square, 3), 9);  // the pool is unharmed
}

// covers POOL-06: a worker's exception is re-raised in the parent with its type and message.
TEST_P(PoolTest, WorkerExceptionKeepsItsType) {
  mp::Pool pool(2, options());
  try {
    pool.apply(fail_on_three, 3);
    ADD_FAILURE();
  } catch (const pyconc::ValueError& e) {
    EXPECT_STREQ(e.what(), "three is not allowed");
  }
  EXPECT_THROW(pool.apply(out_of_range, 0), std::out_of_range);
  EXPECT_THROW(pool.map(fail_on_three, std::vector{1, 2, 3, 4}), pyconc::ValueError);
}

// covers POOL-07: Pool(0) and Pool(-1) raise ValueError; every API on an empty input gives [].
TEST_P(PoolTest, BadSizesAndEmptyInputs) {
  EXPECT_THROW(mp::Pool(0, options()), pyconc::ValueError);
  EXPECT_THROW(mp::Pool(-1, options()), pyconc::ValueError);
  mp::Pool pool(1, options());
  const std::vector<int> none;
  EXPECT_TRUE(pool.map(square, none).empty());
  EXPECT_TRUE(pool.map_async(square, none).get().empty());
  EXPECT_TRUE(pool.starmap(add, std::vector<std::tuple<int, int>>{}).empty());
  EXPECT_EQ(pool.imap(square, none).next(), std::nullopt);
  EXPECT_EQ(pool.imap_unordered(square, none).next(), std::nullopt);
  EXPECT_THROW(pool.map(square, std::vector{1}, 0), pyconc::ValueError);  // chunksize 0
}

// covers POOL-08, POOL-16: the destructor (leaving `with`) terminates: a running task does
// not hold it up, and unfinished tasks fail (ProcessError) rather than stay pending forever.
TEST_P(PoolTest, DestructorTerminatesAndFailsUnfinishedTasks) {
  std::optional<mp::AsyncResult<int>> running;
  std::vector<pid_t> pids;
  const auto start = std::chrono::steady_clock::now();
  {
    mp::Pool pool(2, options());
    TempPath file("pool-dtor");
    running = pool.apply_async(announce_and_sleep, file.path(), 60'000);
    wait_for_pid(file);
    pids = pool.worker_pids();
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, 50s);  // far less than the task's 60 s
  EXPECT_THROW(running->get(30s), mp::ProcessError);
  for (pid_t pid : pids) EXPECT_NE(::kill(pid, 0), 0) << "worker " << pid << " still exists";
}

// covers POOL-08, POOL-15: after terminate() or close(), every submission raises ValueError
// "Pool not running"; tasks submitted before close() still run and join() waits for them.
TEST_P(PoolTest, SubmissionsAfterCloseOrTerminate) {
  mp::Pool pool(2, options());
  auto before = pool.apply_async(sleep_ms, 200);
  pool.close();
  try {
    pool.apply(square, 1);
    ADD_FAILURE();
  } catch (const pyconc::ValueError& e) {
    EXPECT_STREQ(e.what(), "Pool not running");
  }
  EXPECT_THROW(pool.apply_async(square, 1), pyconc::ValueError);
  EXPECT_THROW(pool.map(square, std::vector{1}), pyconc::ValueError);
  EXPECT_THROW(pool.imap(square, std::vector{1}), pyconc::ValueError);
  EXPECT_THROW(pool.starmap(add, std::vector<std::tuple<int, int>>{{1, 2}}), pyconc::ValueError);
  pool.join();
  EXPECT_TRUE(before.ready());
  EXPECT_EQ(before.get(), 200);
  EXPECT_TRUE(pool.worker_pids().empty());

  mp::Pool other(1, options());
  other.terminate();
  EXPECT_THROW(other.apply(square, 1), pyconc::ValueError);
  other.join();
}

// covers POOL-09: join() before close()/terminate() and successful() before ready raise
// ValueError.
TEST_P(PoolTest, JoinWhileRunningAndSuccessfulTooEarly) {
  mp::Pool pool(1, options());
  EXPECT_THROW(pool.join(), pyconc::ValueError);
  auto slow = pool.apply_async(sleep_ms, 3000);
  EXPECT_THROW(slow.successful(), pyconc::ValueError);
  slow.get();
  EXPECT_TRUE(slow.successful());
  pool.close();
  pool.join();
}

// covers POOL-10: maxtasksperchild replaces workers after N tasks (new pids); bad values raise
// ValueError; close+join with short-lived workers does not hang.
TEST_P(PoolTest, MaxTasksPerChildReplacesWorkers) {
  EXPECT_THROW(mp::Pool(1, {.maxtasksperchild = 0, .context = context()}), pyconc::ValueError);
  EXPECT_THROW(mp::Pool(1, {.maxtasksperchild = -1, .context = context()}), pyconc::ValueError);
  mp::Pool pool(2, {.maxtasksperchild = 2, .context = context()});
  std::set<int> pids;
  for (int pid : pool.map(my_pid, std::vector<int>(12, 0), 1)) pids.insert(pid);
  EXPECT_GE(pids.size(), 6u);  // 12 tasks, at most 2 per worker
  for (int i = 0; i < 6; ++i) pool.apply_async(square, i);
  pool.close();
  pool.join();
}

// covers POOL-11: a result that cannot be pickled raises MaybeEncodingError from get() and
// reaches error_callback; the pool keeps all its workers.
TEST_P(PoolTest, UnpicklableResultIsMaybeEncodingError) {
  mp::Pool pool(2, options());
  const auto workers = pool.worker_pids();
  std::atomic<bool> error_called{false};
  auto r = pool.apply_async({.error_callback = [&](std::exception_ptr) { error_called = true; }}, make_refuses, -1);
  try {
    r.get();
    ADD_FAILURE();
  } catch (const mp::MaybeEncodingError& e) {
    EXPECT_NE(std::string(e.what()).find("refuses to be pickled"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(error_called.load());
  EXPECT_EQ(pool.apply(make_refuses, 5).x, 5);
  EXPECT_EQ(pool.worker_pids(), workers);
}

// covers POOL-12: terminate() during a huge map_async returns promptly; after a failing map,
// close+join still waits for the outstanding jobs without deadlock.
TEST_P(PoolTest, TerminateDuringHugeMapAndJoinAfterFailure) {
  {
    mp::Pool pool(2, options());
    auto huge = pool.map_async(sleep_ms, std::vector<int>(20000, 5), 1);
    const auto start = std::chrono::steady_clock::now();
    pool.terminate();
    pool.join();
    EXPECT_LT(std::chrono::steady_clock::now() - start, 30s);  // the map would take 50 s
    EXPECT_THROW(huge.get(30s), mp::ProcessError);
  }
  mp::Pool pool(2, options());
  auto outstanding = pool.apply_async(sleep_ms, 300);
  EXPECT_THROW(pool.map(fail_on_three, std::vector{1, 2, 3, 4, 5, 6}, 1), pyconc::ValueError);
  pool.close();
  pool.join();
  EXPECT_EQ(outstanding.get(), 300);
}

// covers POOL-13: a killed worker is replaced and the pool keeps working; its task fails
// with WorkerLostError naming the signal (Python loses it and hangs); close+join returns.
TEST_P(PoolTest, KilledWorkerFailsItsTaskAndIsReplaced) {
  mp::Pool pool(2, options());
  TempPath file("pool-kill");
  auto doomed = pool.apply_async(announce_and_sleep, file.path(), 60'000);
  const pid_t victim = wait_for_pid(file);
  ASSERT_EQ(::kill(victim, SIGKILL), 0);
  try {
    doomed.get(60s);
    ADD_FAILURE() << "the task did not fail";
  } catch (const mp::WorkerLostError& e) {
    EXPECT_NE(std::string(e.what()).find("signal 9 (SIGKILL)"), std::string::npos) << e.what();
  }
  EXPECT_EQ(pool.map(square, std::vector{1, 2, 3, 4}), (std::vector<int>{1, 4, 9, 16}));
  const auto pids = pool.worker_pids();
  EXPECT_EQ(pids.size(), 2u);
  EXPECT_EQ(std::count(pids.begin(), pids.end(), victim), 0);
  // A worker killed while idle is replaced too, and loses nothing once its end is seen.
  ::kill(pids.front(), SIGKILL);
  const auto seen = std::chrono::steady_clock::now() + 60s;
  while (std::chrono::steady_clock::now() < seen) {
    const auto now = pool.worker_pids();
    if (std::count(now.begin(), now.end(), pids.front()) == 0) break;
    std::this_thread::sleep_for(1ms);
  }
  EXPECT_EQ(pool.map(square, std::vector{5, 6, 7}, 1), (std::vector<int>{25, 36, 49}));
  pool.close();
  pool.join();
}

// covers POOL-14: an initializer that raises is reported and breaks the pool: tasks fail with
// BrokenProcessPool (Python respawns workers forever and the tasks never run).
TEST_P(PoolTest, FailingInitializerBreaksThePool) {
  std::vector<std::string> reports;
  pyconc::threading::Lock reports_lock;
  auto previous = pyconc::set_report_sink([&](std::string_view text) {
    std::scoped_lock hold(reports_lock);
    reports.emplace_back(text);
  });
  {
    mp::Pool pool(2, {.initializer = mp::Initializer(failing_initializer, 1), .context = context()});
    // The task fails, or (once the pool knows) its submission does.
    EXPECT_THROW(pool.apply_async(square, 2).get(60s), pyconc::futures::BrokenProcessPool);
    EXPECT_THROW(pool.apply(square, 2), pyconc::futures::BrokenProcessPool);
    pool.close();
    pool.join();
  }
  pyconc::set_report_sink(previous);
  std::scoped_lock hold(reports_lock);
  const auto initializer_reports = std::count_if(reports.begin(), reports.end(), [](const std::string& text) {
    return text.find("Exception in initializer") != std::string::npos &&
           text.find("initializer refuses") != std::string::npos;
  });
  EXPECT_EQ(initializer_reports, 1);
}

// The initializer runs in every worker before its first task.
TEST_P(PoolTest, InitializerRunsInEveryWorker) {
  mp::Pool pool(2, {.initializer = mp::Initializer(set_initialized, 42), .context = context()});
  for (int value : pool.map(read_initialized, std::vector<int>(20, 0), 1)) EXPECT_EQ(value, 42);
}

// Many threads submitting at once, while workers are replaced every few tasks.
TEST_P(PoolTest, ConcurrentSubmittersWithRecycledWorkers) {
  mp::Pool pool(2, {.maxtasksperchild = 5, .context = context()});
  std::vector<std::thread> submitters;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 4; ++t) {
    submitters.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        const int x = t * 100 + i;
        if (i % 5 == 0) std::this_thread::yield();
        if (pool.apply_async(square, x).get() != x * x) ++wrong;
      }
    });
  }
  for (auto& s : submitters) s.join();
  EXPECT_EQ(wrong.load(), 0);
  pool.close();
  pool.join();
}

// No orphans: when the parent is killed, its pool's workers exit (under fork a worker's
// siblings hold copies of the parent's end of its connection, so the end of the stream
// alone would never come).
TEST_P(PoolTest, WorkersExitWhenTheParentIsKilled) {
  const auto out = pyconc::testing::run_program(PYCONC_MP_SCENARIOS, "pool_parent_killed:" + GetParam());
  const auto at = out.output.find("workers:");
  ASSERT_NE(at, std::string::npos) << out.output;
  std::istringstream pids(out.output.substr(at + 8));
  std::vector<pid_t> workers;
  for (pid_t pid; pids >> pid;) workers.push_back(pid);
  ASSERT_EQ(workers.size(), 2u) << out.output;
  const auto until = std::chrono::steady_clock::now() + 60s;
  for (pid_t pid : workers) {
    while (!process_ended(pid) && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(5ms);
    EXPECT_TRUE(process_ended(pid)) << "worker " << pid << " outlived its parent";
    if (!process_ended(pid)) ::kill(pid, SIGKILL);
  }
}

std::vector<pid_t> pids_after(const std::string& output, const std::string& label) {
  std::vector<pid_t> pids;
  const auto at = output.find(label);
  if (at == std::string::npos) return pids;
  std::istringstream in(output.substr(at + label.size(), output.find('\n', at) - at - label.size()));
  for (pid_t pid; in >> pid;) pids.push_back(pid);
  return pids;
}

// Pools never destroyed are ended by the exit hooks: the program exits 0 and no worker is
// left (the hooks pickle their stop messages after the main thread's thread_locals die).
TEST_P(PoolTest, PoolsLeftRunningAtExitEndCleanly) {
  const auto out = pyconc::testing::run_program(PYCONC_MP_SCENARIOS, "pools_at_exit:" + GetParam());
  EXPECT_EQ(out.exit_code, 0) << out.output;
  EXPECT_NE(out.output.find("results: 9 16"), std::string::npos) << out.output;
  EXPECT_EQ(out.output.find("Exception"), std::string::npos) << out.output;
  const auto workers = pids_after(out.output, "workers:");
  EXPECT_GE(workers.size(), 3u) << out.output;
  const auto until = std::chrono::steady_clock::now() + 60s;
  for (pid_t pid : workers) {
    while (!process_ended(pid) && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(5ms);
    EXPECT_TRUE(process_ended(pid)) << "worker " << pid << " outlived the program";
  }
}

// Without freeze_support() (the default start method is forkserver): Pool() and the
// executor's first submit raise the RuntimeError naming the fix; nothing is started, nothing
// is reported as never retrieved.
TEST(PoolWithoutFreezeSupport, RaisesTheFixFromTheCallThatStartsWorkers) {
  const auto out = pyconc::testing::run_program(PYCONC_MP_SCENARIOS, "pools_without_freeze_support");
  EXPECT_EQ(out.exit_code, 0) << out.output;
  EXPECT_NE(out.output.find("Pool: RuntimeError: "), std::string::npos) << out.output;
  EXPECT_NE(out.output.find("submit: RuntimeError: "), std::string::npos) << out.output;
  EXPECT_NE(out.output.find("freeze_support() first thing in main()"), std::string::npos) << out.output;
  EXPECT_NE(out.output.find("then: BrokenProcessPool"), std::string::npos) << out.output;
  EXPECT_NE(out.output.find("children: 0"), std::string::npos) << out.output;
  EXPECT_EQ(out.output.find("never retrieved"), std::string::npos) << out.output;
}

}  // namespace
