// Blocking MPMC queue: 2 producers / 2 consumers move 1,000,000 ints through a queue of
// capacity 1024. pyconc::queue::Queue<int> against a textbook std::mutex + two
// std::condition_variable bounded queue, moodycamel::BlockingConcurrentQueue and
// oneTBB's concurrent_bounded_queue; each contender in its own process (side_by_side.hpp).
//   build/release/bench/queue_bench [--rounds 5] [--load 2] [--only NAME] [--size ITEMS]
#include <blockingconcurrentqueue.h>
#include <tbb/concurrent_queue.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "pyconc/queue.hpp"
#include "side_by_side.hpp"

namespace {

constexpr std::size_t kCapacity = 1024;
constexpr int kProducers = 2, kConsumers = 2;

// The textbook bounded queue: one mutex, not_full and not_empty condition variables.
class TextbookQueue {
 public:
  explicit TextbookQueue(std::size_t capacity) : capacity_(capacity) {}
  void put(int x) {
    std::unique_lock lock(mutex_);
    not_full_.wait(lock, [&] { return items_.size() < capacity_; });
    items_.push_back(x);
    not_empty_.notify_one();
  }
  int get() {
    std::unique_lock lock(mutex_);
    not_empty_.wait(lock, [&] { return !items_.empty(); });
    const int x = items_.front();
    items_.pop_front();
    not_full_.notify_one();
    return x;
  }

 private:
  std::mutex mutex_;
  std::condition_variable not_full_, not_empty_;
  std::deque<int> items_;
  std::size_t capacity_;
};

// moodycamel's blocking queue is unbounded; bound it with a semaphore-like slot count so
// the comparison is like for like (producers block at 1024 items in flight).
class MoodycamelBounded {
 public:
  explicit MoodycamelBounded(std::size_t capacity) : slots_(static_cast<int>(capacity)) {}
  void put(int x) {
    slots_.wait();
    queue_.enqueue(x);
  }
  int get() {
    int x;
    queue_.wait_dequeue(x);
    slots_.signal();
    return x;
  }

 private:
  moodycamel::LightweightSemaphore slots_;
  moodycamel::BlockingConcurrentQueue<int> queue_;
};

// For reference: moodycamel as it comes, unbounded (producers never wait for room).
class MoodycamelUnbounded {
 public:
  explicit MoodycamelUnbounded(std::size_t) {}
  void put(int x) { queue_.enqueue(x); }
  int get() {
    int x;
    queue_.wait_dequeue(x);
    return x;
  }

 private:
  moodycamel::BlockingConcurrentQueue<int> queue_;
};

class TbbBounded {
 public:
  explicit TbbBounded(std::size_t capacity) { queue_.set_capacity(static_cast<std::ptrdiff_t>(capacity)); }
  void put(int x) { queue_.push(x); }
  int get() {
    int x;
    queue_.pop(x);
    return x;
  }

 private:
  tbb::concurrent_bounded_queue<int> queue_;
};

class PyconcQueue {
 public:
  explicit PyconcQueue(std::size_t capacity) : queue_(static_cast<std::int64_t>(capacity)) {}
  void put(int x) { queue_.put(x); }
  int get() { return queue_.get(); }

 private:
  pyconc::queue::Queue<int> queue_;
};

// Returns items per second; checks that the sum of what came out is what went in.
template <class Q>
double run_once(long items) {
  Q queue(kCapacity);
  std::vector<long> sums(kConsumers, 0);
  const long per_producer = items / kProducers;
  const long per_consumer = items / kConsumers;
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int p = 0; p < kProducers; ++p)
    threads.emplace_back([&queue, per_producer] {
      for (long i = 0; i < per_producer; ++i) queue.put(static_cast<int>(i));
    });
  for (int c = 0; c < kConsumers; ++c)
    threads.emplace_back([&queue, &sums, c, per_consumer] {
      long sum = 0;
      for (long i = 0; i < per_consumer; ++i) sum += queue.get();
      sums[c] = sum;
    });
  for (auto& t : threads) t.join();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  long total = 0;
  for (long s : sums) total += s;
  const long expected = kProducers * (per_producer * (per_producer - 1) / 2);
  if (total != expected) {
    std::fprintf(stderr, "queue lost or duplicated items: %ld != %ld\n", total, expected);
    std::exit(1);
  }
  return static_cast<double>(items) / seconds;
}

}  // namespace

int main(int argc, char** argv) {
  return bench::run_comparison(
      argc, argv,
      {"Queue<int> MPMC: 2 producers / 2 consumers, capacity 1024, %ld items", "M items/s", true,
       1'000'000,
       {
           {"pyconc::queue::Queue<int>", [](long n) { return run_once<PyconcQueue>(n) / 1e6; }},
           {"textbook mutex+2 condvars", [](long n) { return run_once<TextbookQueue>(n) / 1e6; }},
           {"moodycamel BlockingConcurrentQueue", [](long n) { return run_once<MoodycamelBounded>(n) / 1e6; }},
           {"oneTBB concurrent_bounded_queue", [](long n) { return run_once<TbbBounded>(n) / 1e6; }},
           {"moodycamel unbounded (no capacity)", [](long n) { return run_once<MoodycamelUnbounded>(n) / 1e6; }},
       }});
}
