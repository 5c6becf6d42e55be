// Seed 000, producer/consumer stage 3 (BoundedQueueV3): one Condition. wait() gives the
// lock back while waiting; notify() wakes one waiter, which may be of the wrong kind
// (a producer waking a producer), but the while-loop re-checks, so it stays correct.
#include <pyconc/threading.hpp>

#include <cstdio>
#include <mutex>
#include <string>
#include <vector>

namespace threading = pyconc::threading;

class ConditionBoundedQueue {
 public:
  explicit ConditionBoundedQueue(std::size_t max_size) : max_size_(max_size) {}

  void put(const std::string& data) {
    std::scoped_lock hold(condition_);  // lock 획득
    while (queue_.size() >= max_size_) {
      std::printf("[put] 큐 가득 참, 대기\n");
      condition_.wait();  // 핵심: lock 반납 + 대기 (자바의 Object.wait()와 동일)
    }
    queue_.push_back(data);
    std::printf("[put] 생산: %s\n", data.c_str());
    condition_.notify();  // 대기 중인 스레드 하나 깨움
  }

  std::string take() {
    std::scoped_lock hold(condition_);
    while (queue_.empty()) {
      std::printf("[take] 큐 비어 있음, 대기\n");
      condition_.wait();
    }
    std::string data = queue_.front();
    queue_.erase(queue_.begin());
    std::printf("[take] 소비: %s\n", data.c_str());
    condition_.notify();
    return data;
  }

 private:
  std::vector<std::string> queue_;
  std::size_t max_size_;
  threading::Condition condition_;  // 내부에 Lock(RLock) 포함
};

int main() {
  ConditionBoundedQueue q(2);
  threading::Thread producer({.name = "producer"}, [&] {
    for (int i = 0; i < 6; ++i) q.put("data-" + std::to_string(i));
  });
  threading::Thread consumer({.name = "consumer"}, [&] {
    for (int i = 0; i < 6; ++i) q.take();
  });
  producer.start();
  consumer.start();
  producer.join();
  consumer.join();
  std::printf("6개 생산, 6개 소비 완료\n");
}
