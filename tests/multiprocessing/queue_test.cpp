// multiprocessing Queue, JoinableQueue, SimpleQueue (spec MPQ-01..08), across every start
// method, and a consumer killed mid-get.
#include <signal.h>

#include <chrono>
#include <numeric>
#include <random>
#include <set>
#include <thread>

#include "mp_support.hpp"

namespace mp = pyconc::multiprocessing;
using namespace std::chrono_literals;

namespace {

// covers MPQ-01, MPQ-02, MPQ-03: Full and Empty by queue.Queue's rules; with block=false the
// timeout is ignored; a negative timeout does not wait (no ValueError); a put is visible at once.
TEST(MpQueue, BlockingAndTimeoutRules) {
  mp::Queue<int> q(2);
  q.put(1);
  EXPECT_FALSE(q.empty());  // synchronous put: seen at once
  q.put_nowait(2);
  EXPECT_TRUE(q.full());
  EXPECT_THROW(q.put(3, false, 10s), pyconc::queue::Full);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_THROW(q.put(3, true, 100ms), pyconc::queue::Full);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 100ms);
  EXPECT_THROW(q.put(3, true, -1s), pyconc::queue::Full);
  EXPECT_EQ(q.get(), 1);
  EXPECT_EQ(q.get_nowait(), 2);
  EXPECT_THROW(q.get(false, 10s), pyconc::queue::Empty);
  EXPECT_THROW(q.get(true, 50ms), pyconc::queue::Empty);
  EXPECT_THROW(q.get(true, -1s), pyconc::queue::Empty);
  EXPECT_EQ(q.qsize(), 0u);
}

// Variable-size items, including ones that wrap around the end of the ring.
TEST(MpQueue, VariableSizeItemsWrapTheRing) {
  mp::Queue<std::string> q(0, {.buffer_bytes = 4096});
  std::mt19937 random(7);
  std::deque<std::string> expected;
  for (int round = 0; round < 2000; ++round) {
    if (expected.size() < 3 || random() % 2) {
      std::string item(random() % 1500, static_cast<char>('a' + round % 26));
      if (q.qsize() < 2) {
        q.put(item);
        expected.push_back(item);
        continue;
      }
    }
    EXPECT_EQ(q.get(), expected.front());
    expected.pop_front();
  }
  EXPECT_THROW(q.put(std::string(5000, 'x')), pyconc::ValueError);  // larger than the buffer
}


// covers MPQ-07: an item that cannot be pickled is reported (here: put raises) and the
// queue keeps working with qsize correct.
TEST(MpQueue, UnpicklableItemLeavesTheQueueWorking) {
  mp::Queue<pyconc::testing::RefusesToPickle> q;
  q.put(pyconc::testing::RefusesToPickle{1});
  EXPECT_THROW(q.put(pyconc::testing::RefusesToPickle{-1}), pyconc::pickle::PicklingError);
  EXPECT_EQ(q.qsize(), 1u);
  q.put(pyconc::testing::RefusesToPickle{2});
  EXPECT_EQ(q.get().x, 1);
  EXPECT_EQ(q.get().x, 2);
}

// covers MPQ-06, MPQ-08: after close() put and get raise ValueError; SimpleQueue's close may
// be called twice, and empty() is right.
TEST(MpQueue, Close) {
  mp::Queue<int> q;
  q.close();
  EXPECT_THROW(q.put(1), pyconc::ValueError);
  EXPECT_THROW(q.get(), pyconc::ValueError);
  mp::SimpleQueue<int> s;
  EXPECT_TRUE(s.empty());
  s.put(4);
  EXPECT_FALSE(s.empty());
  EXPECT_EQ(s.get(), 4);
  s.close();
  s.close();
}

void produce(mp::Queue<std::vector<int>> q, int producer, int count) {
  for (int i = 0; i < count; ++i) q.put({producer, i});
}

void echo_sum(mp::SimpleQueue<int> in, mp::SimpleQueue<long> out) {
  long sum = 0;
  for (int x = in.get(); x >= 0; x = in.get()) sum += x;
  out.put(sum);
}

void work_and_mark_done(mp::JoinableQueue<int> q, mp::SimpleQueue<int> results) {
  for (;;) {
    const int x = q.get();
    if (x >= 0) results.put(x * x);
    q.task_done();
    if (x < 0) return;
  }
}

class MpQueueAcross : public pyconc::testing::EveryStartMethod {};
PYCONC_EVERY_START_METHOD(MpQueueAcross);

// covers MPQ-04: items put by the parent before the children start and by the children are
// all received, each producer's in FIFO order.
TEST_P(MpQueueAcross, ProducersKeepTheirOrder) {
  mp::Queue<std::vector<int>> q(64);
  q.put({-1, 0});
  std::vector<mp::Process> producers;
  for (int p = 0; p < 3; ++p) producers.push_back(context().Process(produce, q, p, 300));
  for (auto& p : producers) p.start();
  std::vector<int> next(3, 0);
  EXPECT_EQ(q.get(), (std::vector<int>{-1, 0}));
  for (int i = 0; i < 900; ++i) {
    const auto item = q.get(true, 60s);
    ASSERT_EQ(item.size(), 2u);
    EXPECT_EQ(item[1], next[item[0]]++);
  }
  for (auto& p : producers) p.join();
  EXPECT_TRUE(q.empty());
}

// covers MPQ-08: a SimpleQueue both ways between processes.
TEST_P(MpQueueAcross, SimpleQueueBothWays) {
  mp::SimpleQueue<int> in;
  mp::SimpleQueue<long> out;
  auto p = context().Process(echo_sum, in, out);
  p.start();
  for (int i = 1; i <= 1000; ++i) in.put(i);
  in.put(-1);
  EXPECT_EQ(out.get(), 500500);
  p.join();
  EXPECT_TRUE(in.empty());
}

// covers MPQ-05: task_done/join across processes; one task_done too many is a ValueError.
TEST_P(MpQueueAcross, JoinableQueueAcrossProcesses) {
  mp::JoinableQueue<int> q;
  mp::SimpleQueue<int> results;
  auto worker = context().Process(work_and_mark_done, q, results);
  worker.start();
  for (int i = 0; i < 50; ++i) q.put(i);
  EXPECT_TRUE(q.join(60s));
  EXPECT_EQ(q.unfinished_tasks(), 0u);
  long sum = 0;
  for (int i = 0; i < 50; ++i) sum += results.get();
  EXPECT_EQ(sum, 40425);
  q.put(-1);
  worker.join();
  EXPECT_TRUE(q.join(10s));
  EXPECT_THROW(q.task_done(), pyconc::ValueError);
}

// An item carries its own checksum, so a torn item would be caught.
std::vector<int> make_item(int id) {
  std::vector<int> item(2 + id % 200, id);
  item[0] = id;
  item.back() = std::accumulate(item.begin(), item.end() - 1, 0);
  return item;
}
bool intact(const std::vector<int>& item) {
  return item.size() >= 2 && item.back() == std::accumulate(item.begin(), item.end() - 1, 0);
}

void consume_forever(mp::Queue<std::vector<int>> q) {
  for (;;) {
    const auto item = q.get();
    if (!intact(item)) std::_Exit(3);
  }
}

// Consumers are killed at random moments while a producer thread keeps the queue busy, so
// kills land inside get() and while the queue's lock is held. The queue stays whole: every
// item left is intact and unique, and the queue still works.
TEST_P(MpQueueAcross, ConsumersKilledMidGetCorruptNothing) {
  if (fork_with_threads_unsupported()) GTEST_SKIP() << "fork while a thread allocates: not under sanitizers";
  mp::Queue<std::vector<int>> q(0, {.buffer_bytes = 1 << 16});
  std::mt19937 random(11);
  std::atomic<int> next_id{0};
  for (int round = 0; round < 8; ++round) {
    std::atomic<bool> stop{false};
    std::thread producer([&] {
      while (!stop.load()) {
        try {
          q.put(make_item(next_id.load()), true, 1ms);
          ++next_id;
        } catch (const pyconc::queue::Full&) {
        }
      }
    });
    auto consumer = context().Process(consume_forever, q);
    consumer.start();
    std::this_thread::sleep_for(std::chrono::microseconds(2000 + random() % 8000));
    consumer.kill();
    consumer.join();
    stop = true;
    producer.join();
    EXPECT_EQ(consumer.exitcode(), -SIGKILL);  // never 3: nothing torn was read
  }
  std::set<int> seen;
  int previous = -1;
  while (!q.empty()) {
    const auto item = q.get(true, 30s);
    ASSERT_TRUE(intact(item));
    EXPECT_TRUE(seen.insert(item[0]).second);
    EXPECT_GT(item[0], previous);  // still in FIFO order
    previous = item[0];
  }
  q.put(make_item(1));
  EXPECT_EQ(q.get(true, 10s), make_item(1));
}

// Producers that put with 1 ms timeouts and consumers that alternate get_nowait and 1 ms
// timeouts, on a 4-item queue with a 96-byte ring, each in its own process: the putters and
// getters of each side take turns on their side's lock and sleep and wake one another far
// more often than the items move. Every item arrives exactly once.
void put_patiently(mp::Queue<int> q, int first, int count) {
  std::minstd_rand random(static_cast<unsigned>(first));
  for (int i = first; i < first + count;) {
    try {
      q.put(i, true, 1ms);
      ++i;
    } catch (const pyconc::queue::Full&) {
    }
    if (random() % 8 == 0) std::this_thread::yield();
  }
}

void get_patiently(mp::Queue<int> q, mp::SimpleQueue<std::pair<long, long>> totals) {
  long sum = 0, count = 0;
  for (unsigned round = 0;; ++round) {
    int x;
    try {
      x = round % 2 ? q.get_nowait() : q.get(true, 1ms);
    } catch (const pyconc::queue::Empty&) {
      continue;
    }
    if (x < 0) break;
    sum += x;
    ++count;
  }
  totals.put({sum, count});  // one item: the consumers report at the same time
}

TEST_P(MpQueueAcross, TimedPutsAndGetsOnATinyQueueLoseNothing) {
  constexpr int kProducers = 3, kConsumers = 3, kEach = 5000;
  mp::Queue<int> q(4, {.buffer_bytes = 96});
  mp::SimpleQueue<std::pair<long, long>> totals;
  std::vector<mp::Process> producers, consumers;
  for (int p = 0; p < kProducers; ++p) producers.push_back(context().Process(put_patiently, q, p * kEach, kEach));
  for (int c = 0; c < kConsumers; ++c) consumers.push_back(context().Process(get_patiently, q, totals));
  for (auto& p : consumers) p.start();
  for (auto& p : producers) p.start();
  for (auto& p : producers) p.join();
  for (int c = 0; c < kConsumers; ++c) q.put(-1);  // blocking puts: the consumers make room
  long sum = 0, count = 0;
  for (int c = 0; c < kConsumers; ++c) {
    const auto [consumer_sum, consumer_count] = totals.get();
    sum += consumer_sum;
    count += consumer_count;
  }
  for (auto& p : consumers) p.join();
  const long n = kProducers * kEach;
  EXPECT_EQ(count, n);
  EXPECT_EQ(sum, n * (n - 1) / 2);
  EXPECT_TRUE(q.empty());
  for (auto& p : producers) EXPECT_EQ(p.exitcode(), 0);
  for (auto& p : consumers) EXPECT_EQ(p.exitcode(), 0);
}

}  // namespace
