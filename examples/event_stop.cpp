// Seed 000, "Event로 스레드 중단하기" (the interrupt analogue): the worker waits on the
// Event instead of sleeping, so set() stops it at once.
#include <pyconc/threading.hpp>

#include <chrono>
#include <cstdio>
#include <thread>

namespace threading = pyconc::threading;
using namespace std::chrono_literals;

void worker(threading::Event& stop_event) {
  const std::string me = threading::current_thread().name();
  while (!stop_event.is_set()) {
    std::printf("[%s] 작업 중...\n", me.c_str());
    std::fflush(stdout);
    // time.sleep() 대신 Event.wait() 사용 — 즉시 응답 가능!
    stop_event.wait(100ms);  // the seed waits 1 s
  }
  std::printf("[%s] 자원 정리\n", me.c_str());
  std::printf("[%s] 종료\n", me.c_str());
}

int main() {
  threading::Event stop;
  threading::Thread t({.name = "work"}, worker, std::ref(stop));
  t.start();

  std::this_thread::sleep_for(300ms);  // the seed sleeps 3 s
  std::printf("[main] 작업 중단 지시\n");
  std::fflush(stdout);
  stop.set();  // 즉시 반응 — 자바의 interrupt()처럼 대기 중인 스레드를 깨움
  t.join();
}
