// pyconc::gil::InterpreterLock: exclusion, forced switching, FIFO hand-off, Released,
// misuse, statistics, fork. Every assertion is about order or counts, never durations.
#include "pyconc/gil.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "support.hpp"

namespace {

using namespace std::chrono_literals;
using pyconc::gil::InterpreterLock;
using pyconc::gil::Released;
using pyconc::threading::Event;

TEST(InterpreterLock, AcquireReleaseAndLockable) {
  InterpreterLock gil;
  EXPECT_FALSE(gil.locked());
  gil.acquire();
  EXPECT_TRUE(gil.locked());
  EXPECT_TRUE(gil.held_by_current_thread());
  gil.release();
  EXPECT_FALSE(gil.locked());
  {
    std::scoped_lock hold(gil);
    EXPECT_TRUE(gil.held_by_current_thread());
  }
  EXPECT_TRUE(gil.try_lock());
  std::thread([&] {
    EXPECT_FALSE(gil.held_by_current_thread());
    EXPECT_FALSE(gil.try_lock());
  }).join();
  gil.unlock();
}

TEST(InterpreterLock, SwitchIntervalIsPythonsSetting) {
  InterpreterLock gil;
  EXPECT_DOUBLE_EQ(gil.getswitchinterval().count(), 0.005);
  gil.setswitchinterval(std::chrono::duration<double>(0.0001));
  EXPECT_NEAR(gil.getswitchinterval().count(), 0.0001, 1e-12);
  gil.setswitchinterval(250ms);
  EXPECT_DOUBLE_EQ(gil.getswitchinterval().count(), 0.25);
  EXPECT_THROW(gil.setswitchinterval(0s), pyconc::ValueError);
  EXPECT_THROW(gil.setswitchinterval(-1ms), pyconc::ValueError);
  EXPECT_THROW(gil.setswitchinterval(std::chrono::duration<double>(std::nan(""))),
               pyconc::ValueError);
  EXPECT_DOUBLE_EQ(gil.getswitchinterval().count(), 0.25) << "a rejected value changes nothing";
  EXPECT_THROW(InterpreterLock(0s), pyconc::ValueError);
}

TEST(InterpreterLock, MisuseByHolderAndOtherThreads) {
  InterpreterLock gil(60s);
  gil.acquire();
  EXPECT_THROW(gil.acquire(), pyconc::RuntimeError);
  EXPECT_THROW(gil.try_lock(), pyconc::RuntimeError);
  std::thread([&] { EXPECT_THROW(gil.release(), pyconc::RuntimeError); }).join();
  EXPECT_TRUE(gil.held_by_current_thread()) << "a refused release changes nothing";
  gil.release();
  EXPECT_THROW(gil.release(), pyconc::RuntimeError);
}

TEST(InterpreterLock, CheckWithoutHoldingIsRuntimeErrorWhenADropIsDue) {
  // check() is one relaxed load on its fast path, as CPython's eval breaker: misuse is
  // reported when the check point acts, i.e. when a waiter asked for the lock.
  InterpreterLock gil(1ms);
  Event held, queued, misuse_seen;
  std::thread holder([&] {
    gil.acquire();
    held.set();
    while (!gil.drop_requested()) std::this_thread::yield();
    queued.set();
    misuse_seen.wait();
    gil.check();  // hands over, then gets it back
    gil.release();
  });
  held.wait();  // a waiter that got the lock first would leave the holder nobody to drop for
  std::thread waiter([&] {
    gil.acquire();
    gil.release();
  });
  queued.wait();
  EXPECT_THROW(gil.check(), pyconc::RuntimeError);
  misuse_seen.set();
  holder.join();
  waiter.join();
}

TEST(InterpreterLock, ForcedSwitchLetsTheWaiterRunBeforeTheHolderTakesItBack) {
  for (int round = 0; round < 20; ++round) {
    InterpreterLock gil(std::chrono::microseconds(200));
    std::atomic<bool> waiter_ran{false};
    Event holding;
    std::thread holder([&] {
      gil.acquire();
      holding.set();
      // A CPU-bound "bytecode loop". Had the dropper been able to take the lock back
      // before the waiter ran, it would need a second forced drop: there is exactly one.
      while (!waiter_ran.load()) gil.check();
      gil.release();
    });
    holding.wait();
    std::thread waiter([&] {
      gil.acquire();
      waiter_ran = true;
      gil.release();
    });
    holder.join();
    waiter.join();
    const auto stats = gil.statistics();
    EXPECT_EQ(stats.forced_drops, 1u);
    EXPECT_GE(stats.drop_requests, 1u);
    EXPECT_EQ(stats.acquisitions, 3u);
    EXPECT_EQ(stats.switches, 3u);
  }
}

// Three CPU-bound threads under a forced-switching GIL take turns in strict rotation: a
// forced drop goes to the oldest waiter and the dropper queues at the back.
TEST(InterpreterLock, CpuBoundThreadsRotateFairly) {
  InterpreterLock gil(std::chrono::microseconds(200));
  constexpr int kThreads = 3;
  constexpr std::size_t kTurns = 60;
  // Guarded by the GIL itself. `all_in` is the turn at which the last thread first held
  // the lock: from then on all of them are in the rotation.
  std::vector<int> turns;
  std::vector<bool> seen(kThreads, false);
  std::size_t seen_count = 0, all_in = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      std::scoped_lock hold(gil);
      for (;;) {
        if (seen_count == kThreads && turns.size() >= all_in + kTurns) return;
        if (turns.empty() || turns.back() != t) {
          turns.push_back(t);
          if (!seen[t]) {
            seen[t] = true;
            if (++seen_count == kThreads) all_in = turns.size() - 1;
          }
        }
        gil.check();
      }
    });
  for (auto& thread : threads) thread.join();
  ASSERT_GE(turns.size(), all_in + kTurns);
  // a, b, c, a, b, c, ...
  for (std::size_t i = all_in; i + kThreads < turns.size(); ++i)
    EXPECT_EQ(turns[i], turns[i + kThreads]) << "turn " << i << " broke the rotation";
  const auto stats = gil.statistics();
  EXPECT_GE(stats.forced_drops, kTurns);
  ASSERT_EQ(stats.threads.size(), std::size_t(kThreads));
  for (const auto& thread : stats.threads) EXPECT_GT(thread.forced_drops, 0u);
}

TEST(InterpreterLock, ReleaseHandsToTheOldestWaiter) {
  InterpreterLock gil(60s);  // no drop requests: only release() moves the lock
  gil.acquire();
  std::vector<int> order;  // guarded by the GIL
  std::vector<std::thread> waiters;
  for (int i = 0; i < 4; ++i) {
    std::atomic<std::uint64_t> native{0};
    waiters.emplace_back([&, i] {
      native = pyconc::threading::get_native_id();
      gil.acquire();
      order.push_back(i);
      gil.release();
    });
    while (native.load() == 0) std::this_thread::yield();
    pyconc::testing::wait_until_parked(native.load());  // queued before the next one comes
  }
  gil.release();
  for (auto& waiter : waiters) waiter.join();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3}));
  const auto stats = gil.statistics();
  EXPECT_EQ(stats.drop_requests, 0u);
  for (const auto& thread : stats.threads)
    if (thread.thread_id != pyconc::threading::get_ident()) EXPECT_EQ(thread.waits, 1u);
}

// I/O releases the lock: while one thread blocks inside Released, another runs.
TEST(InterpreterLock, ReleasedLetsOthersRunDuringABlockingCall) {
  InterpreterLock gil;
  Event other_ran;
  std::thread io([&] {
    std::scoped_lock hold(gil);
    {
      Released blocking(gil);
      EXPECT_FALSE(gil.held_by_current_thread());
      other_ran.wait();  // would deadlock if the lock stayed held
    }
    EXPECT_TRUE(gil.held_by_current_thread());
  });
  std::thread cpu([&] {
    std::scoped_lock hold(gil);
    other_ran.set();
  });
  io.join();
  cpu.join();
}

// Many threads, random mixes of check points, Released sections, yields and try_lock:
// the counter the GIL guards loses nothing, and the statistics add up.
TEST(InterpreterLock, StressKeepsExclusionAndCounts) {
  InterpreterLock gil(std::chrono::microseconds(50));
  constexpr int kThreads = 4;
  constexpr int kRounds = 2000;
  long counter = 0;  // plain: the GIL is its only protection (TSan checks that)
  std::atomic<long> acquisitions{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      std::mt19937 random(1234 + t);
      for (int round = 0; round < kRounds; ++round) {
        if (random() % 4 == 0) {
          if (!gil.try_lock()) gil.acquire();
        } else {
          gil.acquire();
        }
        acquisitions.fetch_add(1);
        for (int step = 0; step < 3; ++step) {
          const long seen = counter;
          if (random() % 8 == 0) std::this_thread::yield();
          counter = seen + 1;
          gil.check();
          if (random() % 16 == 0) {
            Released io(gil);
            acquisitions.fetch_add(1);
            if (random() % 2) std::this_thread::yield();
          }
        }
        gil.release();
      }
    });
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(counter, long(kThreads) * kRounds * 3);
  const auto stats = gil.statistics();
  std::uint64_t forced = 0, by_thread = 0;
  for (const auto& thread : stats.threads) {
    forced += thread.forced_drops;
    by_thread += thread.acquisitions;
    EXPECT_LE(thread.waits, thread.acquisitions);
  }
  EXPECT_EQ(stats.acquisitions, std::uint64_t(acquisitions.load() + stats.forced_drops));
  EXPECT_EQ(by_thread, stats.acquisitions);
  EXPECT_EQ(forced, stats.forced_drops);
  EXPECT_LE(stats.forced_drops, stats.drop_requests);
  EXPECT_FALSE(gil.locked());
}

TEST(InterpreterLock, ResetStatistics) {
  InterpreterLock gil;
  { std::scoped_lock hold(gil); }
  EXPECT_EQ(gil.statistics().acquisitions, 1u);
  gil.reset_statistics();
  const auto stats = gil.statistics();
  EXPECT_EQ(stats.acquisitions, 0u);
  EXPECT_TRUE(stats.threads.empty());
}

int child_exit(pid_t pid) {
  int status = 0;
  EXPECT_EQ(::waitpid(pid, &status, 0), pid);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
}

TEST(InterpreterLock, ForkedChildFindsItFreeWhenAnotherThreadHeldIt) {
  InterpreterLock gil(60s);
  Event holding, done;
  std::thread holder([&] {
    std::scoped_lock hold(gil);
    holding.set();
    done.wait();
  });
  holding.wait();
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (gil.locked()) ::_exit(1);
    if (!gil.try_lock()) ::_exit(2);
    gil.release();
    ::_exit(0);
  }
  EXPECT_EQ(child_exit(pid), 0);
  done.set();
  holder.join();
}

TEST(InterpreterLock, ForkedChildKeepsItWhenTheForkingThreadHeldIt) {
  InterpreterLock gil(60s);
  std::scoped_lock hold(gil);
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (!gil.held_by_current_thread()) ::_exit(1);
    gil.release();
    if (gil.locked()) ::_exit(2);
    ::_exit(0);
  }
  EXPECT_EQ(child_exit(pid), 0);
}

}  // namespace
