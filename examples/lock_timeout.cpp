// Seed 000, "타임아웃 지정 가능": acquire(timeout=...) gives up instead of waiting forever.
// A second thread holds the lock, so the timed acquire fails; then it succeeds.
#include <pyconc/threading.hpp>

#include <chrono>
#include <cstdio>

namespace threading = pyconc::threading;
using namespace std::chrono_literals;

threading::Lock lock;

void try_critical_section(std::chrono::milliseconds timeout) {
  const bool acquired = lock.acquire(true, timeout);  // 최대 timeout만 대기
  if (acquired) {
    std::printf("락 획득 성공 — 임계 영역 실행\n");
    lock.release();  // 반드시 해제해야 함
  } else {
    std::printf("락 획득 실패 — 시스템이 바쁩니다\n");
  }
}

int main() {
  threading::Event holding, done;
  threading::Thread busy({.name = "busy"}, [&] {
    lock.acquire();
    holding.set();
    done.wait();
    lock.release();
  });
  busy.start();
  holding.wait();
  try_critical_section(200ms);  // the seed waits up to 5 s
  done.set();
  busy.join();
  try_critical_section(200ms);
}
