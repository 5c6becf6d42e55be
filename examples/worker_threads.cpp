// Seed 000, "Thread 생성과 실행": two named workers, started and joined by main.
//   t1 = threading.Thread(target=worker, args=("task-1",), name="worker-1")
#include <pyconc/threading.hpp>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

namespace threading = pyconc::threading;
using namespace std::chrono_literals;

void worker(const std::string& name) {
  std::printf("%s: 작업 시작 (%s)\n", threading::current_thread().name().c_str(), name.c_str());
  std::this_thread::sleep_for(200ms);  // the seed sleeps 2 s
  std::printf("%s: 작업 완료 (%s)\n", threading::current_thread().name().c_str(), name.c_str());
}

int main() {
  threading::Thread t1({.name = "worker-1"}, worker, std::string("task-1"));
  threading::Thread t2({.name = "worker-2"}, worker, std::string("task-2"));

  std::printf("%s: main 시작\n", threading::current_thread().name().c_str());
  t1.start();
  t2.start();

  t1.join();  // t1 종료 대기
  t2.join();  // t2 종료 대기
  std::printf("%s: main 종료\n", threading::current_thread().name().c_str());
}
