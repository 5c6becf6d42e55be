// Seed 004, "threading 모듈": a function thread, a class thread, five threads in a loop,
// and safe_worker() printing under a Lock.
#include <pyconc/threading.hpp>

#include <chrono>
#include <cstdio>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace threading = pyconc::threading;
using namespace std::chrono_literals;

void worker() {
  std::printf("스레드 시작\n");
  std::this_thread::sleep_for(100ms);  // the seed sleeps 2 s
  std::printf("스레드 종료\n");
}

class MyThread : public threading::Thread {
 public:
  void run() override { std::printf("MyThread 실행 중\n"); }
};

threading::Lock lock;

void safe_worker() {
  std::scoped_lock hold(lock);  // 임계 구역 (공유 자원 접근)
  std::printf("%s 작업 중\n", threading::current_thread().name().c_str());
}

int main() {
  threading::Thread t(worker);
  t.start();
  t.join();  // 메인 스레드는 이 스레드가 끝날 때까지 대기

  MyThread mt;
  mt.start();
  mt.join();

  std::vector<std::unique_ptr<threading::Thread>> five;
  for (int i = 0; i < 5; ++i) {
    five.push_back(std::make_unique<threading::Thread>(worker));
    five.back()->start();
  }
  for (auto& f : five) f->join();

  std::vector<std::unique_ptr<threading::Thread>> threads;
  for (int i = 0; i < 3; ++i) threads.push_back(std::make_unique<threading::Thread>(safe_worker));
  for (auto& s : threads) s->start();
  for (auto& s : threads) s->join();
}
