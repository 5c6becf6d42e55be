// Limiting concurrency with a (Bounded)Semaphore: ten "downloads", at most three at once.
#include <pyconc/threading.hpp>

#include <chrono>
#include <cstdio>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace threading = pyconc::threading;
using namespace std::chrono_literals;

threading::BoundedSemaphore slots(3);
threading::Lock print_lock;
int inside = 0, most_inside = 0;

void download(int i) {
  std::scoped_lock slot(slots);  // with slots:
  {
    std::scoped_lock hold(print_lock);
    ++inside;
    most_inside = std::max(most_inside, inside);
    std::printf("download %d 시작 (동시에 %d개)\n", i, inside);
  }
  std::this_thread::sleep_for(30ms);
  std::scoped_lock hold(print_lock);
  --inside;
}

int main() {
  std::vector<std::unique_ptr<threading::Thread>> threads;
  for (int i = 0; i < 10; ++i) threads.push_back(std::make_unique<threading::Thread>(download, i));
  for (auto& t : threads) t->start();
  for (auto& t : threads) t->join();
  std::printf("최대 동시 실행: %d (한도 3)\n", most_inside);
}
