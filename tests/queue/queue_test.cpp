#include <string>

#include "pyconc/queue.hpp"
#include "support.hpp"

namespace {

using namespace pyconc::testing;
using pyconc::queue::Empty;
using pyconc::queue::Full;
using pyconc::queue::LifoQueue;
using pyconc::queue::PriorityQueue;
using pyconc::queue::Queue;
using pyconc::threading::Thread;

template <class Q>
std::vector<int> put_then_drain(Q& q, std::vector<int> items) {
  for (int i : items) q.put(i);
  std::vector<int> out;
  while (!q.empty()) out.push_back(q.get());
  return out;
}

//
TEST(Queue, OrderOfEachKind) {
  Queue<int> fifo;
  LifoQueue<int> lifo;
  PriorityQueue<int> prio;
  EXPECT_EQ(put_then_drain(fifo, {111, 333, 222}), (std::vector<int>{111, 333, 222}));
  EXPECT_EQ(put_then_drain(lifo, {111, 333, 222}), (std::vector<int>{222, 333, 111}));
  EXPECT_EQ(put_then_drain(prio, {111, 333, 222}), (std::vector<int>{111, 222, 333}));
}

//
TEST(Queue, SizeFullEmpty) {
  Queue<int> unbounded(0), negative(-5), bounded(2);
  for (int i = 0; i < 100; ++i) {
    unbounded.put(i);
    negative.put(i);
  }
  EXPECT_FALSE(unbounded.full());
  EXPECT_FALSE(negative.full());
  EXPECT_EQ(unbounded.qsize(), 100u);
  EXPECT_TRUE(bounded.empty());
  bounded.put(1);
  EXPECT_FALSE(bounded.full());
  bounded.put(2);
  EXPECT_TRUE(bounded.full());
  EXPECT_EQ(bounded.qsize(), 2u);
  EXPECT_FALSE(bounded.empty());
}

//
TEST(Queue, PutOnFullRaisesFull) {
  Queue<int> q(1);
  q.put(1);
  EXPECT_THROW(q.put(2, false), Full);
  EXPECT_THROW(q.put_nowait(2), Full);
  Stopwatch sw;
  EXPECT_THROW(q.put(2, true, 200ms), Full);
  expect_timed_wait(sw.elapsed(), 200ms);
}

//
TEST(Queue, BlockedPutReturnsWhenSlotFrees) {
  Queue<int> q(1);
  q.put(1);
  Thread getter([&] {
    std::this_thread::sleep_for(50ms);
    q.get();
  });
  getter.start();
  Stopwatch sw;
  q.put(2, true, 60s);
  EXPECT_LT(sw.elapsed().count(), 30.0);
  getter.join();
  EXPECT_EQ(q.get(), 2);
}

//
TEST(Queue, GetOnEmptyRaisesEmpty) {
  Queue<int> q;
  EXPECT_THROW(q.get(false), Empty);
  EXPECT_THROW(q.get_nowait(), Empty);
  Stopwatch sw;
  EXPECT_THROW(q.get(true, 200ms), Empty);
  expect_timed_wait(sw.elapsed(), 200ms);
  Thread putter([&] {
    std::this_thread::sleep_for(30ms);
    q.put(9);
  });
  putter.start();
  EXPECT_EQ(q.get(), 9);
  putter.join();
}

//
TEST(Queue, NegativeTimeoutIsValueError) {
  Queue<int> q(1);
  q.put(1);
  EXPECT_THROW(q.get(true, -1s), pyconc::ValueError);  // even with an item available
  EXPECT_THROW(q.put(2, true, -1s), pyconc::ValueError);
  Queue<int> unbounded;
  EXPECT_NO_THROW(unbounded.put(1, true, -1s));  // only bounded queues check put's timeout
}

//
TEST(Queue, NonBlockingIgnoresTimeoutAndZeroMeansOnce) {
  Queue<int> q(1);
  EXPECT_THROW(q.get(false, -1s), Empty);  // no ValueError
  q.put(1, false, -1s);
  EXPECT_THROW(q.put(2, false, -1s), Full);
  Stopwatch sw;
  EXPECT_THROW(q.put(2, true, 0s), Full);
  q.get();
  EXPECT_THROW(q.get(true, 0s), Empty);
  EXPECT_LT(sw.elapsed().count(), 2.0);
}

//
TEST(Queue, TaskDoneTooOftenIsValueError) {
  Queue<int> q;
  EXPECT_THROW(q.task_done(), pyconc::ValueError);
  q.put(1);
  q.get();
  q.task_done();
  EXPECT_THROW(q.task_done(), pyconc::ValueError);
}

//
TEST(Queue, JoinWaitsForTaskDone) {
  Queue<int> q;
  q.join();  // nothing outstanding: returns at once
  for (int i = 0; i < 3; ++i) q.put(i);
  std::atomic<bool> joined{false};
  Thread joiner([&] {
    q.join();
    joined = true;
  });
  joiner.start();
  for (int i = 0; i < 3; ++i) {
    q.get();
    std::this_thread::sleep_for(5ms);
    EXPECT_FALSE(joined.load());
    q.task_done();
  }
  joiner.join();
  EXPECT_TRUE(joined.load());
  q.join();
  q.join();
}

//
TEST(Queue, FailedPutsAreNotCounted) {
  Queue<int> q(1);
  q.put(1);
  EXPECT_THROW(q.put_nowait(2), Full);
  EXPECT_EQ(q.unfinished_tasks(), 1u);
}

// An item whose copy can be made to fail, for the storage-failure behaviours.
struct Fragile {
  static inline bool fail_next_copy = false;
  int value = 0;
  explicit Fragile(int v) : value(v) {}
  Fragile(const Fragile& other) : value(other.value) {
    if (fail_next_copy) {
      fail_next_copy = false;
      throw std::runtime_error("copy failed");
    }
  }
  Fragile& operator=(const Fragile&) = default;
};

//
TEST(Queue, StorageFailureLeavesQueueUsable) {
  Queue<Fragile> q(2);
  q.put(Fragile(1));
  const Fragile second(2);
  Fragile::fail_next_copy = true;
  EXPECT_THROW(q.put(second), std::runtime_error);
  EXPECT_EQ(q.qsize(), 1u);
  EXPECT_EQ(q.unfinished_tasks(), 1u);
  q.put(second);
  EXPECT_THROW(q.put(second, true, 10ms), Full);  // blocking and timed calls still work
  EXPECT_EQ(q.get().value, 1);
  EXPECT_EQ(q.get(true, 1s).value, 2);
}

//
TEST(Queue, MaxsizeCanChange) {
  Queue<int> q(3);
  for (int i = 0; i < 3; ++i) q.put(i);
  q.set_maxsize(2);
  EXPECT_THROW(q.put_nowait(9), Full);
  q.set_maxsize(5);
  q.put_nowait(9);
  EXPECT_EQ(q.qsize(), 4u);
}

//
template <class Q>
void two_consumers_join() {
  Q q;
  std::atomic<int> sum{0}, processed{0};
  ThreadGroup consumers(2, [&](int) {
    for (;;) {
      const int item = q.get();
      if (item < 0) {
        q.task_done();
        return;
      }
      sum.fetch_add(item);
      processed.fetch_add(1);
      q.task_done();
    }
  });
  for (int i = 0; i < 100; ++i) q.put(i);
  q.join();
  EXPECT_EQ(processed.load(), 100);
  EXPECT_EQ(sum.load(), 4950);
  q.put(-1);
  q.put(-1);
  consumers.join();
}
TEST(Queue, TwoConsumersWithJoin) { two_consumers_join<Queue<int>>(); }
TEST(LifoQueue, TwoConsumersWithJoin) { two_consumers_join<LifoQueue<int>>(); }
TEST(PriorityQueue, TwoConsumersWithJoin) {
  // Negative sentinels come out first from a PriorityQueue, so use a max-first order.
  PriorityQueue<int, std::greater<int>> q;
  std::atomic<int> processed{0};
  for (int i = 0; i < 100; ++i) q.put(i);
  ThreadGroup consumers(2, [&](int) {
    while (auto item = q.try_get()) {
      processed.fetch_add(1);
      q.task_done();
    }
  });
  q.join();
  consumers.join();
  EXPECT_EQ(processed.load(), 100);
}

// covers Q-15 (pyconc deliberately differs: equal priorities keep insertion order)
TEST(PriorityQueue, EqualPrioritiesKeepInsertionOrder) {
  using Entry = std::pair<int, char>;
  auto by_priority = [](const Entry& a, const Entry& b) { return a.first < b.first; };
  PriorityQueue<Entry, decltype(by_priority)> q(0, by_priority);
  const std::string letters = "abcdefgh";
  for (char c : letters) q.put(Entry{1, c});
  std::string out;
  while (!q.empty()) out += q.get().second;
  EXPECT_EQ(out, letters);
}

// covers Q-16: items that cannot be compared are a compile error here (static_assert in
// PriorityStorage), Python's TypeError moved to compile time.
TEST(PriorityQueue, CustomComparatorOrders) {
  PriorityQueue<std::string, std::greater<>> q;
  for (auto s : {"b", "c", "a"}) q.put(std::string(s));
  EXPECT_EQ(q.get(), "c");
}

TEST(Queue, MoveOnlyItemsAndFailedPutKeepsTheItem) {
  Queue<std::unique_ptr<int>> q(1);
  q.put(std::make_unique<int>(1));
  auto item = std::make_unique<int>(2);
  EXPECT_THROW(q.put_nowait(std::move(item)), Full);
  ASSERT_NE(item, nullptr);  // not lost: the caller still has it
  EXPECT_FALSE(q.try_put(std::move(item)));
  ASSERT_NE(item, nullptr);
  EXPECT_EQ(*q.get(), 1);
  EXPECT_TRUE(q.try_put(std::move(item)));
  EXPECT_EQ(*q.try_get().value(), 2);
  EXPECT_FALSE(q.try_get().has_value());
}

TEST(Queue, TryTwinsWithTimeouts) {
  Queue<int> q(1);
  Stopwatch sw;
  EXPECT_FALSE(q.try_get(100ms).has_value());
  expect_timed_wait(sw.elapsed(), 100ms);
  EXPECT_TRUE(q.try_put(1, 100ms));
  EXPECT_FALSE(q.try_put(2, 50ms));
  EXPECT_EQ(q.try_get(1s).value(), 1);
}

}  // namespace
