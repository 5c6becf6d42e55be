// Nothing is lost or duplicated: many producers and consumers with blocking, timed and
// non-blocking calls interleaved at random, on a small bounded queue.
#include "pyconc/queue.hpp"
#include "support.hpp"

namespace {

using namespace pyconc::testing;
using pyconc::queue::Empty;
using pyconc::queue::Full;

template <class Q>
void exactly_once(Q& q) {
  constexpr int kProducers = 4, kConsumers = 4, kPerProducer = 20000;
  constexpr int kTotal = kProducers * kPerProducer;
  std::vector<std::atomic<int>> seen(kTotal);
  std::atomic<int> consumed{0};
  ThreadGroup producers(kProducers, [&](int id) {
    std::minstd_rand rng(id);
    for (int i = 0; i < kPerProducer; ++i) {
      const int item = id * kPerProducer + i;
      for (;;) {
        try {
          switch (rng() % 4) {
            case 0: q.put_nowait(item); break;
            case 1: q.put(item, true, std::chrono::microseconds(rng() % 100)); break;
            case 2:
              if (!q.try_put(item)) throw Full();
              break;
            default: q.put(item); break;
          }
          break;
        } catch (const Full&) {
          jitter(rng);
        }
      }
      if (rng() % 128 == 0) jitter(rng);
    }
  });
  ThreadGroup consumers(kConsumers, [&](int id) {
    std::minstd_rand rng(id + 1000);
    while (consumed.load() < kTotal) {
      std::optional<int> item;
      try {
        switch (rng() % 4) {
          case 0: item = q.get_nowait(); break;
          case 1: item = q.get(true, std::chrono::microseconds(rng() % 200)); break;
          case 2: item = q.try_get(); break;
          default: item = q.get(true, 5ms); break;
        }
      } catch (const Empty&) {
      }
      if (!item) continue;
      seen[*item].fetch_add(1);
      consumed.fetch_add(1);
      q.task_done();
      if (rng() % 128 == 0) jitter(rng);
    }
  });
  producers.join();
  consumers.join();
  q.join();
  for (int i = 0; i < kTotal; ++i) ASSERT_EQ(seen[i].load(), 1) << "item " << i;
  EXPECT_EQ(q.qsize(), 0u);
  EXPECT_EQ(q.unfinished_tasks(), 0u);
}

TEST(QueueStress, FifoExactlyOnce) {
  pyconc::queue::Queue<int> q(16);
  exactly_once(q);
}
TEST(QueueStress, LifoExactlyOnce) {
  pyconc::queue::LifoQueue<int> q(16);
  exactly_once(q);
}
TEST(QueueStress, PriorityExactlyOnce) {
  pyconc::queue::PriorityQueue<int> q(16);
  exactly_once(q);
}

// Shutdown racing producers and consumers: every item put is either consumed or discarded
// by the immediate shutdown, never both, never lost.
TEST(QueueStress, ShutdownRaceLosesNothing) {
  for (int round = 0; round < 20; ++round) {
    pyconc::queue::Queue<int> q(8);
    std::atomic<int> put_ok{0}, consumed{0};
    ThreadGroup producers(3, [&](int) {
      for (int i = 0;; ++i) {
        try {
          q.put(i);
          put_ok.fetch_add(1);
        } catch (const pyconc::queue::ShutDown&) {
          return;
        }
      }
    });
    ThreadGroup consumers(3, [&](int) {
      for (;;) {
        try {
          q.get();
          consumed.fetch_add(1);
        } catch (const pyconc::queue::ShutDown&) {
          return;
        }
      }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(round % 5));
    q.shutdown();  // normal: consumers drain what is left
    producers.join();
    consumers.join();
    EXPECT_EQ(put_ok.load(), consumed.load()) << "round " << round;
  }
}

}  // namespace
