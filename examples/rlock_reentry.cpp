// Seed 000, "RLock (재진입 가능 락)": outer() holds the lock and calls inner(), which takes
// it again. With a plain Lock this would deadlock.
#include <pyconc/threading.hpp>

#include <cstdio>
#include <mutex>

namespace threading = pyconc::threading;

threading::RLock lock;  // 재진입 가능

void inner() {
  std::scoped_lock hold(lock);  // RLock이므로 같은 스레드는 다시 획득 가능
  std::printf("inner 진입\n");
}

void outer() {
  std::scoped_lock hold(lock);
  std::printf("outer 진입\n");
  inner();  // 같은 스레드가 다시 lock 획득 시도
}

int main() {
  outer();  // 정상 동작 (Lock이었다면 데드락 발생)
  std::printf("recursion_count after outer(): %llu\n",
              static_cast<unsigned long long>(lock.recursion_count()));
}
