// Seed 000, producer/consumer stage 4 (BoundedQueueV5): two Conditions on one Lock, so
// producers wait in not_full, consumers in not_empty, and each side wakes only the other.
#include <pyconc/threading.hpp>

#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace threading = pyconc::threading;

class EfficientBoundedQueue {
 public:
  explicit EfficientBoundedQueue(std::size_t max_size) : max_size_(max_size) {}

  void put(const std::string& data) {
    std::scoped_lock hold(not_full_);
    while (queue_.size() >= max_size_) not_full_.wait();  // 생산자 전용 대기
    queue_.push_back(data);
    not_empty_.notify();  // 소비자를 깨움
  }

  std::string take() {
    std::scoped_lock hold(not_empty_);
    while (queue_.empty()) not_empty_.wait();  // 소비자 전용 대기
    std::string data = queue_.front();
    queue_.erase(queue_.begin());
    not_full_.notify();  // 생산자를 깨움
    return data;
  }

 private:
  std::vector<std::string> queue_;
  std::size_t max_size_;
  threading::Lock lock_;
  threading::Condition not_full_{lock_};   // 생산자 대기 공간
  threading::Condition not_empty_{lock_};  // 소비자 대기 공간
};

int main() {
  EfficientBoundedQueue q(2);
  constexpr int kProducers = 3, kItemsEach = 1000;
  threading::Lock tally_lock;
  long taken = 0;
  std::vector<std::unique_ptr<threading::Thread>> threads;
  for (int p = 0; p < kProducers; ++p)
    threads.push_back(std::make_unique<threading::Thread>([&q, p] {
      for (int i = 0; i < kItemsEach; ++i) q.put("p" + std::to_string(p) + "-" + std::to_string(i));
    }));
  for (int c = 0; c < kProducers; ++c)
    threads.push_back(std::make_unique<threading::Thread>([&] {
      for (int i = 0; i < kItemsEach; ++i) {
        q.take();
        std::scoped_lock hold(tally_lock);
        ++taken;
      }
    }));
  for (auto& t : threads) t->start();
  for (auto& t : threads) t->join();
  std::printf("생산자 %d개, 소비자 %d개: %ld개 모두 전달됨\n", kProducers, kProducers, taken);
}
