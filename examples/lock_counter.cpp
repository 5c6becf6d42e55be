// Seed 002, "03_lock.py": four threads add 100,000 each under a Lock; always 400000.
#include <pyconc/threading.hpp>

#include <cstdio>
#include <memory>
#include <mutex>
#include <vector>

namespace threading = pyconc::threading;

long counter = 0;
threading::Lock lock;

void inc() {
  for (int i = 0; i < 100'000; ++i) {
    std::scoped_lock hold(lock);
    counter += 1;
  }
}

int main() {
  std::vector<std::unique_ptr<threading::Thread>> ts;
  for (int i = 0; i < 4; ++i) ts.push_back(std::make_unique<threading::Thread>(inc));
  for (auto& t : ts) t->start();
  for (auto& t : ts) t->join();
  std::printf("%ld\n", counter);  // 400000
}
