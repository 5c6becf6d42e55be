// Seed 000, producer/consumer stage 1 (BoundedQueueV1): a Lock alone. When the queue is
// full the producer can only drop the item; when it is empty the consumer gets nothing.
#include <pyconc/threading.hpp>

#include <cstdio>
#include <deque>
#include <mutex>
#include <optional>
#include <string>

namespace threading = pyconc::threading;

class NaiveBoundedQueue {
 public:
  explicit NaiveBoundedQueue(std::size_t max_size) : max_size_(max_size) {}

  void put(const std::string& data) {
    std::scoped_lock hold(lock_);
    if (queue_.size() >= max_size_) {
      std::printf("[put] 큐 가득 참, 버림: %s\n", data.c_str());
      return;
    }
    queue_.push_back(data);
    std::printf("[put] 저장: %s\n", data.c_str());
  }

  std::optional<std::string> take() {
    std::scoped_lock hold(lock_);
    if (queue_.empty()) {
      std::printf("[take] 큐 비어 있음, None 반환\n");
      return std::nullopt;
    }
    std::string data = queue_.front();
    queue_.pop_front();
    std::printf("[take] 획득: %s\n", data.c_str());
    return data;
  }

 private:
  std::deque<std::string> queue_;
  std::size_t max_size_;
  threading::Lock lock_;
};

int main() {
  NaiveBoundedQueue q(2);
  threading::Thread producer({.name = "producer"}, [&] {
    for (int i = 0; i < 3; ++i) q.put("data-" + std::to_string(i));
  });
  producer.start();
  producer.join();  // the producer finishes first: data-2 finds the queue full
  threading::Thread consumer({.name = "consumer"}, [&] {
    for (int i = 0; i < 3; ++i) q.take();
  });
  consumer.start();
  consumer.join();
}
