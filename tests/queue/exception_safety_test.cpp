// The strong guarantee: an operation that throws (T's copy or move, the comparator,
// allocation) leaves the queue as it was and the caller's item intact, with qsize,
// unfinished_tasks and join still right. Items throw on a schedule; every item that went
// in comes out exactly once, with its value.
#include <algorithm>
#include <new>
#include <random>
#include <set>
#include <stdexcept>

#include "pyconc/queue.hpp"
#include "support.hpp"

namespace {

using namespace pyconc::testing;
using pyconc::queue::LifoQueue;
using pyconc::queue::PriorityQueue;
using pyconc::queue::Queue;
using pyconc::queue::SimpleQueue;

// Throws (before touching anything) when the shared countdown reaches zero.
struct Faults {
  int countdown = -1;  // < 0: never
  void maybe_throw() {
    if (countdown >= 0 && countdown-- == 0) throw std::bad_alloc();
  }
};
Faults g_faults;

// Move-only, with a move that may throw: the case std::vector gives up on.
struct MoveOnly {
  int value = -1;
  explicit MoveOnly(int v) : value(v) {}
  MoveOnly(MoveOnly&& o) : value(o.value) {  // NOLINT: may throw on purpose
    g_faults.maybe_throw();
    o.value = -1;
  }
  MoveOnly& operator=(MoveOnly&& o) {  // NOLINT
    g_faults.maybe_throw();
    value = o.value;
    o.value = -1;
    return *this;
  }
};

// Copyable, and both copy and move may throw.
struct Copyable {
  int value = -1;
  explicit Copyable(int v) : value(v) {}
  Copyable(const Copyable& o) : value(o.value) { g_faults.maybe_throw(); }
  Copyable(Copyable&& o) : value(o.value) {  // NOLINT
    g_faults.maybe_throw();
    o.value = -1;
  }
  Copyable& operator=(const Copyable& o) {
    g_faults.maybe_throw();
    value = o.value;
    return *this;
  }
  Copyable& operator=(Copyable&& o) {  // NOLINT
    g_faults.maybe_throw();
    value = o.value;
    o.value = -1;
    return *this;
  }
};

// Puts 0..n-1 and takes them out again while faults fire every few operations, retrying
// each failed call; checks nothing was lost, duplicated or hollowed out.
template <class Q, class Item>
void put_and_take_under_faults(Q& q, int n, bool fifo_order) {
  std::minstd_rand rng(7);
  std::multiset<int> taken;
  std::vector<int> order;
  std::uint64_t expected_unfinished = 0;
  int next = 0, failures = 0;
  while (static_cast<int>(order.size()) < n) {
    const bool put_now = next < n && (rng() % 3 != 0 || q.qsize() == 0);
    g_faults.countdown = static_cast<int>(rng() % 4);
    if (put_now) {
      Item item(next);
      try {
        q.put(std::move(item));
        ++next;
        ++expected_unfinished;
      } catch (const std::bad_alloc&) {
        ++failures;
        EXPECT_EQ(item.value, next) << "a failed put must leave the caller's item intact";
      }
    } else {
      const std::size_t before = q.qsize();
      try {
        Item item = q.get();
        EXPECT_GE(item.value, 0) << "a hollow item came out";
        order.push_back(item.value);
        taken.insert(item.value);
      } catch (const std::bad_alloc&) {
        ++failures;
        EXPECT_EQ(q.qsize(), before) << "a failed get must leave the item queued";
      }
    }
    g_faults.countdown = -1;
    if constexpr (requires { q.unfinished_tasks(); }) EXPECT_EQ(q.unfinished_tasks(), expected_unfinished);
  }
  EXPECT_GT(failures, n / 4) << "the faults should have fired often";
  ASSERT_EQ(taken.size(), static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) EXPECT_EQ(taken.count(i), 1u) << i;
  if (fifo_order) EXPECT_TRUE(std::is_sorted(order.begin(), order.end()));
  if constexpr (requires { q.join(); }) {
    for (int i = 0; i < n; ++i) q.task_done();
    q.join();  // would hang if a failed put had been counted
  }
}

TEST(QueueExceptionSafety, FifoMoveOnlyWithThrowingMove) {
  Queue<MoveOnly> q;  // grows its ring many times on the way
  put_and_take_under_faults<Queue<MoveOnly>, MoveOnly>(q, 3000, true);
}

TEST(QueueExceptionSafety, FifoCopyableWithThrowingCopyAndMove) {
  Queue<Copyable> q;
  put_and_take_under_faults<Queue<Copyable>, Copyable>(q, 3000, true);
}

TEST(QueueExceptionSafety, Lifo) {
  LifoQueue<MoveOnly> a;
  put_and_take_under_faults<LifoQueue<MoveOnly>, MoveOnly>(a, 2000, false);
  LifoQueue<Copyable> b;
  put_and_take_under_faults<LifoQueue<Copyable>, Copyable>(b, 2000, false);
}

TEST(QueueExceptionSafety, SimpleQueue) {
  SimpleQueue<MoveOnly> q;
  put_and_take_under_faults<SimpleQueue<MoveOnly>, MoveOnly>(q, 3000, true);
}

TEST(QueueExceptionSafety, TryGetKeepsTheItemWhenItsMoveThrows) {
  Queue<Copyable> q;
  q.put(Copyable(5));
  g_faults.countdown = 0;
  EXPECT_THROW(q.try_get(), std::bad_alloc);
  g_faults.countdown = -1;
  EXPECT_EQ(q.qsize(), 1u);
  auto item = q.try_get();
  ASSERT_TRUE(item);
  EXPECT_EQ(item->value, 5);
}

// A comparator that throws every few calls, on ints (whose moves never throw).
struct FlakyLess {
  int* calls;
  bool operator()(int a, int b) const {
    if (++*calls % 5 == 0) throw std::runtime_error("cannot compare");
    return a < b;
  }
};

TEST(QueueExceptionSafety, PriorityQueueWithThrowingComparator) {
  int calls = 0;
  PriorityQueue<int, FlakyLess> q(0, FlakyLess{&calls});
  std::minstd_rand rng(11);
  std::multiset<int> inside;
  std::uint64_t unfinished = 0;
  int failures = 0;
  for (int step = 0; step < 4000; ++step) {
    if (inside.empty() || rng() % 2) {
      int item = static_cast<int>(rng() % 100);
      try {
        q.put(item);
        inside.insert(item);
        ++unfinished;
      } catch (const std::runtime_error&) {
        ++failures;
      }
    } else {
      try {
        const int item = q.get();
        // The smallest still inside: the heap order survived every failed call.
        EXPECT_EQ(item, *inside.begin());
        inside.erase(inside.begin());
      } catch (const std::runtime_error&) {
        ++failures;
      }
    }
    ASSERT_EQ(q.qsize(), inside.size());
    ASSERT_EQ(q.unfinished_tasks(), unfinished);
  }
  EXPECT_GT(failures, 100);
}

// Moves of a move-only item may throw, and so may the comparator: still strong.
struct Prioritised {
  MoveOnly item;
  bool operator<(const Prioritised& o) const { return item.value < o.item.value; }
};

TEST(QueueExceptionSafety, PriorityQueueWithThrowingMoves) {
  PriorityQueue<Prioritised> q;
  std::minstd_rand rng(3);
  std::multiset<int> inside;
  for (int step = 0; step < 3000; ++step) {
    g_faults.countdown = static_cast<int>(rng() % 3);
    if (inside.empty() || rng() % 2) {
      const int v = static_cast<int>(rng() % 50);
      Prioritised p{MoveOnly(v)};
      try {
        q.put(std::move(p));
        inside.insert(v);
      } catch (const std::bad_alloc&) {
        EXPECT_EQ(p.item.value, v);
      }
    } else {
      try {
        Prioritised p = q.get();
        EXPECT_EQ(p.item.value, *inside.begin());
        inside.erase(inside.begin());
      } catch (const std::bad_alloc&) {
      }
    }
    g_faults.countdown = -1;
    ASSERT_EQ(q.qsize(), inside.size());
  }
}

}  // namespace
