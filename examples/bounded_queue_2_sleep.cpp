// Seed 000, producer/consumer stage 2 (BoundedQueueV2): waiting by sleeping while holding
// the lock. The producer sleeps with the lock held, so the consumer can never get in to
// make room: the program stalls. Here the consumer tries the lock with a timeout to show
// the stall, and the producer gives up after a few rounds so the demo ends.
#include <pyconc/threading.hpp>

#include <chrono>
#include <cstdio>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

namespace threading = pyconc::threading;
using namespace std::chrono_literals;

class SleepBoundedQueue {
 public:
  explicit SleepBoundedQueue(std::size_t max_size) : max_size_(max_size) {}

  bool put(const std::string& data) {
    std::scoped_lock hold(lock_);
    for (int round = 0; queue_.size() >= max_size_; ++round) {
      if (round == 3) {
        std::printf("[put] 포기: %s (락을 쥔 채 잠들면 아무도 공간을 만들 수 없음)\n", data.c_str());
        return false;
      }
      std::printf("[put] 큐 가득 참, 대기 중...\n");
      std::fflush(stdout);
      std::this_thread::sleep_for(100ms);  // 락을 가진 채로 sleep! (the seed sleeps 1 s)
    }
    queue_.push_back(data);
    std::printf("[put] 저장: %s\n", data.c_str());
    return true;
  }

  // The seed's take() would block on the lock forever; this one says so after a timeout.
  void take_with_patience(std::chrono::milliseconds patience) {
    if (!lock_.acquire(true, patience)) {
      std::printf("[take] %lldms 동안 락을 얻지 못함 — 생산자가 락을 쥔 채 잠들어 있음\n",
                  static_cast<long long>(patience.count()));
      std::fflush(stdout);
      return;
    }
    std::scoped_lock hold(std::adopt_lock, lock_);
    std::string data = queue_.front();
    queue_.pop_front();
    std::printf("[take] 획득: %s\n", data.c_str());
  }

 private:
  std::deque<std::string> queue_;
  std::size_t max_size_;
  threading::Lock lock_;
};

int main() {
  SleepBoundedQueue q(2);
  threading::Event third_put_started;
  threading::Thread producer({.name = "producer"}, [&] {
    q.put("data-0");
    q.put("data-1");
    third_put_started.set();
    q.put("data-2");  // full: sleeps holding the lock
  });
  producer.start();
  third_put_started.wait();
  std::this_thread::sleep_for(20ms);
  q.take_with_patience(150ms);  // the stall
  producer.join();
  q.take_with_patience(150ms);  // once the producer gave up, the lock is free again
}
