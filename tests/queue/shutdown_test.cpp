#include "pyconc/queue.hpp"
#include "support.hpp"

namespace {

using namespace pyconc::testing;
using pyconc::queue::Empty;
using pyconc::queue::Queue;
using pyconc::queue::ShutDown;

// covers QSD-01
TEST(QueueShutdown, PutRaisesInBothModes) {
  for (bool immediate : {false, true}) {
    Queue<int> q(5);
    q.shutdown(immediate);
    EXPECT_THROW(q.put(1), ShutDown);
    EXPECT_THROW(q.put_nowait(1), ShutDown);
    EXPECT_THROW(q.put(1, true, 1s), ShutDown);
    EXPECT_FALSE(q.try_put(1));
  }
}

// covers QSD-02
TEST(QueueShutdown, NormalShutdownDrainsThenRaises) {
  Queue<int> q;
  q.put(1);
  q.put(2);
  q.shutdown();
  EXPECT_EQ(q.get(), 1);
  EXPECT_EQ(q.get_nowait(), 2);
  Stopwatch sw;
  EXPECT_THROW(q.get(), ShutDown);
  EXPECT_THROW(q.get_nowait(), ShutDown);
  EXPECT_THROW(q.get(true, 10s), ShutDown);
  EXPECT_LT(sw.elapsed().count(), 5.0);
  EXPECT_FALSE(q.try_get().has_value());
}

// covers QSD-03, QSD-04
TEST(QueueShutdown, ImmediateDiscardsAndCountsDiscardedAsDone) {
  Queue<int> q;
  for (int i = 0; i < 3; ++i) q.put(i);
  std::atomic<bool> joined{false};
  pyconc::threading::Thread joiner([&] {
    q.join();
    joined = true;
  });
  joiner.start();
  q.shutdown(true);
  joiner.join();
  EXPECT_TRUE(joined.load());
  EXPECT_EQ(q.qsize(), 0u);
  EXPECT_EQ(q.unfinished_tasks(), 0u);
  EXPECT_THROW(q.get(), ShutDown);
  EXPECT_THROW(q.task_done(), pyconc::ValueError);
  q.join();
}

// covers QSD-05
TEST(QueueShutdown, ItemsTakenBeforeImmediateStillNeedTaskDone) {
  Queue<int> q;
  q.put(1);
  q.put(2);
  q.get();  // taken out, not yet done
  q.shutdown(true);
  EXPECT_EQ(q.unfinished_tasks(), 1u);
  std::atomic<bool> joined{false};
  pyconc::threading::Thread joiner([&] {
    q.join();
    joined = true;
  });
  joiner.start();
  std::this_thread::sleep_for(30ms);
  EXPECT_FALSE(joined.load());
  q.task_done();
  joiner.join();
  EXPECT_TRUE(joined.load());
}

// covers QSD-06
TEST(QueueShutdown, BlockedPuttersWake) {
  for (bool immediate : {false, true}) {
    Queue<int> q(1);
    q.put(0);
    std::atomic<int> shut{0};
    ThreadGroup putters(3, [&](int i) {
      try {
        q.put(i);
      } catch (const ShutDown&) {
        shut.fetch_add(1);
      }
    });
    ASSERT_TRUE(eventually([&] { return all_sleeping(putters); }));
    q.shutdown(immediate);
    putters.join();
    EXPECT_EQ(shut.load(), 3);
  }
}

// covers QSD-07
TEST(QueueShutdown, BlockedGettersWakeAndLeftoversAreServed) {
  Queue<int> q;
  std::atomic<int> shut{0}, got{0};
  ThreadGroup getters(4, [&](int) {
    try {
      q.get();
      got.fetch_add(1);
    } catch (const ShutDown&) {
      shut.fetch_add(1);
    }
  });
  ASSERT_TRUE(eventually([&] { return all_sleeping(getters); }));
  q.shutdown();
  getters.join();
  EXPECT_EQ(shut.load(), 4);

  // Normal shutdown with k items left: k blocked getters get items, the rest ShutDown.
  Queue<int> q2;
  std::atomic<int> shut2{0}, got2{0};
  ThreadGroup late(4, [&](int) {
    try {
      q2.get();
      got2.fetch_add(1);
    } catch (const ShutDown&) {
      shut2.fetch_add(1);
    }
  });
  ASSERT_TRUE(eventually([&] { return all_sleeping(late); }));
  q2.put(1);
  q2.put(2);
  q2.shutdown();
  late.join();
  EXPECT_EQ(got2.load(), 2);
  EXPECT_EQ(shut2.load(), 2);
}

// covers QSD-08
TEST(QueueShutdown, IdempotentAndEscalates) {
  Queue<int> q;
  EXPECT_FALSE(q.is_shutdown());
  q.put(1);
  q.shutdown();
  q.shutdown();
  EXPECT_TRUE(q.is_shutdown());
  EXPECT_EQ(q.qsize(), 1u);
  q.shutdown(true);
  EXPECT_EQ(q.qsize(), 0u);
  q.shutdown(true);
  q.shutdown(false);
  EXPECT_TRUE(q.is_shutdown());
}

}  // namespace
