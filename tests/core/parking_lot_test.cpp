#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <thread>
#include <vector>

#include "detail/parking_lot.hpp"
#include "parked.hpp"

namespace {

using namespace std::chrono_literals;
namespace pl = pyconc::detail::parking_lot;
using pyconc::Deadline;

bool eventually(const std::function<bool()>& cond) {
  const auto until = std::chrono::steady_clock::now() + 30s;
  while (!cond()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

TEST(ParkingLot, InvalidWhenValidateFails) {
  int key = 0;
  bool slept = false;
  auto r = pl::park(&key, [] { return false; }, [&] { return slept = true; }, Deadline::never());
  EXPECT_EQ(r.result, pl::ParkResult::invalid);
  EXPECT_FALSE(slept);
}

TEST(ParkingLot, TimesOutAndLeavesTheQueue) {
  int key = 0;
  auto r = pl::park(&key, [] { return true; }, Deadline::after(20ms));
  EXPECT_EQ(r.result, pl::ParkResult::timed_out);
  EXPECT_FALSE(pl::unpark_one(&key).did_unpark);  // nobody left behind
}

TEST(ParkingLot, UnparkOneIsFifoAndPassesToken) {
  int key = 0;
  std::atomic<int> queued{0};
  std::vector<int> order;
  std::vector<std::uintptr_t> tokens(4);
  std::atomic<int> woken{0};
  std::vector<std::thread> threads;
  std::mutex order_mutex;
  for (int id = 0; id < 4; ++id) {
    threads.emplace_back([&, id] {
      auto r = pl::park(&key, [] { return true; }, [&] { queued.fetch_add(1); return true; }, Deadline::never());
      std::scoped_lock hold(order_mutex);
      order.push_back(id);
      tokens[id] = r.token;
      woken.fetch_add(1);
    });
    ASSERT_TRUE(eventually([&] { return queued.load() == id + 1; }));
  }
  for (int i = 0; i < 4; ++i) {
    auto result = pl::unpark_one(&key, [&](pl::UnparkResult r) -> std::uintptr_t {
      EXPECT_TRUE(r.did_unpark);
      EXPECT_EQ(r.may_have_more, i < 3);
      return 100 + i;
    });
    EXPECT_TRUE(result.did_unpark);
    ASSERT_TRUE(eventually([&] { return woken.load() == i + 1; }));
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3}));
  for (int id = 0; id < 4; ++id) EXPECT_EQ(tokens[id], static_cast<std::uintptr_t>(100 + id));
}

TEST(ParkingLot, UnparkAllWakesOnlyThatAddress) {
  int a = 0, b = 0;
  std::atomic<int> queued{0}, woken_a{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 3; ++i)
    threads.emplace_back([&] {
      pl::park(&a, [] { return true; }, [&] { queued.fetch_add(1); return true; }, Deadline::never());
      woken_a.fetch_add(1);
    });
  std::thread on_b([&] {
    pl::park(&b, [] { return true; }, [&] { queued.fetch_add(1); return true; }, Deadline::never());
  });
  ASSERT_TRUE(eventually([&] { return queued.load() == 4; }));
  EXPECT_EQ(pl::unpark_all(&a), 3u);
  for (auto& t : threads) t.join();
  EXPECT_EQ(woken_a.load(), 3);
  EXPECT_EQ(pl::unpark_all(&b), 1u);
  on_b.join();
}

// After fork only the forking thread is left: the child finds none of the parent's parked
// threads, whichever buckets they are in (the reset rewrites only the buckets in use), and
// parks and unparks on the same addresses; the parent's threads are still there to wake.
TEST(ParkingLot, ForkedChildFindsNoneOfTheParentsParkedThreads) {
  if (pyconc::testing::kSanitizerAllocator) GTEST_SKIP() << "the sanitizer runtime's allocator is not fork-safe";
  constexpr int kThreads = 24;  // 24 addresses: most of them in buckets of their own
  std::vector<int> keys(kThreads);
  std::atomic<int> queued{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i)
    threads.emplace_back([&, i] {
      pl::park(&keys[i], [] { return true; }, [&] { queued.fetch_add(1); return true; }, Deadline::never());
    });
  ASSERT_TRUE(eventually([&] { return queued.load() == kThreads; }));
  const pid_t pid = ::fork();
  if (pid == 0) {
    std::size_t found = 0;
    for (auto& key : keys) found += pl::unpark_all(&key);
    int timed_out = 0;
    for (int i = 0; i < kThreads; i += 6)
      timed_out += pl::park(&keys[i], [] { return true; }, Deadline::after(1ms)).result == pl::ParkResult::timed_out;
    std::_Exit(found == 0 && timed_out == kThreads / 6 ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
  for (auto& key : keys) EXPECT_EQ(pl::unpark_all(&key), 1u);
  for (auto& t : threads) t.join();
}

TEST(ParkingLot, BeFairComesRoundWithinAFewMilliseconds) {
  int key = 0;
  bool saw_fair = false;
  const auto until = std::chrono::steady_clock::now() + 10s;
  while (!saw_fair && std::chrono::steady_clock::now() < until) {
    std::atomic<bool> queued{false};
    std::thread t([&] {
      pl::park(&key, [] { return true; }, [&] { return queued = true; }, Deadline::never());
    });
    while (!queued) std::this_thread::yield();
    pl::unpark_one(&key, [&](pl::UnparkResult r) -> std::uintptr_t {
      saw_fair = saw_fair || r.be_fair;
      return 0;
    });
    t.join();
    std::this_thread::sleep_for(1ms);
  }
  EXPECT_TRUE(saw_fair);
}

// Racing timeouts against unparks: every park ends exactly once, as unparked or timed out,
// and the unparker's count matches the parkers'.
TEST(ParkingLot, StressTimeoutsRacingUnparks) {
  int key = 0;
  std::atomic<int> unparked{0};
  std::atomic<bool> stop{false};
  std::atomic<int> woken_by_unparker{0};
  std::vector<std::thread> parkers;
  for (int i = 0; i < 4; ++i)
    parkers.emplace_back([&, i] {
      for (int n = 0; n < 2000; ++n) {
        auto r = pl::park(&key, [] { return true; }, Deadline::after(std::chrono::microseconds(n % 50 + i)));
        if (r.unparked()) unparked.fetch_add(1);
      }
    });
  std::thread unparker([&] {
    while (!stop) {
      if (pl::unpark_one(&key).did_unpark) woken_by_unparker.fetch_add(1);
      std::this_thread::yield();
    }
  });
  for (auto& t : parkers) t.join();
  stop = true;
  unparker.join();
  EXPECT_EQ(unparked.load(), woken_by_unparker.load());
}

}  // namespace
