#include "pyconc/queue.hpp"
#include "support.hpp"

namespace {

using namespace pyconc::testing;
using pyconc::queue::Empty;
using pyconc::queue::SimpleQueue;

// covers SQ-01
TEST(SimpleQueue, UnboundedPutIgnoresBlockAndTimeout) {
  SimpleQueue<int> q;
  for (int i = 0; i < 1000; ++i) q.put(i, false, -5s);
  q.put_nowait(1000);
  EXPECT_EQ(q.qsize(), 1001u);
  EXPECT_EQ(q.get(), 0);
}

// covers SQ-02
TEST(SimpleQueue, EmptyRaisesAndSizesAreExact) {
  SimpleQueue<int> q;
  EXPECT_TRUE(q.empty());
  EXPECT_THROW(q.get(false), Empty);
  EXPECT_THROW(q.get_nowait(), Empty);
  Stopwatch sw;
  EXPECT_THROW(q.get(true, 100ms), Empty);
  expect_timed_wait(sw.elapsed(), 100ms);
  q.put(1);
  q.put(2);
  EXPECT_EQ(q.qsize(), 2u);
  EXPECT_FALSE(q.empty());
}

// covers SQ-03
TEST(SimpleQueue, NegativeTimeoutIsValueErrorEvenWithItems) {
  SimpleQueue<int> q;
  q.put(1);
  EXPECT_THROW(q.get(true, -1s), pyconc::ValueError);
  EXPECT_EQ(q.qsize(), 1u);
}

// covers SQ-04
TEST(SimpleQueue, OrderPreservedOneProducerOneConsumer) {
  SimpleQueue<int> q;
  std::vector<int> got;
  pyconc::threading::Thread consumer([&] {
    for (int i = 0; i < 20000; ++i) got.push_back(q.get());
  });
  consumer.start();
  for (int i = 0; i < 20000; ++i) q.put(i);
  consumer.join();
  for (int i = 0; i < 20000; ++i) ASSERT_EQ(got[i], i);
}

// covers SQ-05
TEST(SimpleQueue, ManyProducersAndConsumersDeliverExactlyOnce) {
  SimpleQueue<int> q;
  constexpr int kProducers = 50, kConsumers = 50, kItems = 10000;
  std::vector<std::atomic<int>> seen(kItems);
  std::atomic<int> consumed{0};
  ThreadGroup consumers(kConsumers, [&](int id) {
    std::minstd_rand rng(id);
    while (consumed.load() < kItems) {
      std::optional<int> item;
      try {
        switch (id % 3) {
          case 0: item = q.get(true, 10ms); break;
          case 1: item = q.get_nowait(); break;
          default: item = q.get(true, std::chrono::microseconds(10)); break;
        }
      } catch (const Empty&) {
        std::this_thread::yield();
        continue;
      }
      seen[*item].fetch_add(1);
      consumed.fetch_add(1);
    }
  });
  ThreadGroup producers(kProducers, [&](int id) {
    for (int i = id; i < kItems; i += kProducers) q.put(i);
  });
  producers.join();
  consumers.join();
  for (auto& count : seen) ASSERT_EQ(count.load(), 1);
}

// covers SQ-06 (C++ analogue: an item whose destructor puts into the same queue does not
// deadlock, because no item is destroyed while the queue's lock is held)
struct PutsOnDestruction {
  SimpleQueue<int>* q = nullptr;
  PutsOnDestruction(SimpleQueue<int>* queue) : q(queue) {}
  PutsOnDestruction(PutsOnDestruction&& other) noexcept : q(std::exchange(other.q, nullptr)) {}
  ~PutsOnDestruction() {
    if (q) q->put(99);
  }
};
TEST(SimpleQueue, PutFromAnItemsDestructor) {
  SimpleQueue<int> numbers;
  SimpleQueue<PutsOnDestruction> holders;
  holders.put(PutsOnDestruction(&numbers));
  { auto taken = holders.get(); }
  EXPECT_EQ(numbers.get(false), 99);
}

// covers SQ-07
TEST(SimpleQueue, KeepsNoReferenceAfterGet) {
  SimpleQueue<std::shared_ptr<int>> q;
  auto item = std::make_shared<int>(5);
  std::weak_ptr<int> watch = item;
  q.put(std::move(item));
  { auto out = q.get(); }
  EXPECT_TRUE(watch.expired());
}

}  // namespace
