// Seed 000, "데몬 스레드": a daemon thread loops forever; the process ends with main.
//   t = threading.Thread(target=background_task, daemon=True)
#include <pyconc/threading.hpp>

#include <chrono>
#include <cstdio>
#include <thread>

namespace threading = pyconc::threading;
using namespace std::chrono_literals;

void background_task() {
  for (;;) {
    std::printf("백그라운드 작업 중...\n");
    std::fflush(stdout);
    std::this_thread::sleep_for(100ms);  // the seed sleeps 1 s
  }
}

int main() {
  threading::Thread t({.daemon = true}, background_task);
  t.start();

  std::this_thread::sleep_for(350ms);  // the seed sleeps 3 s
  std::printf("메인 스레드 종료 → 데몬 스레드도 자동 종료\n");
}
