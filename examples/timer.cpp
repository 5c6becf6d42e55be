// Seed 004, "Timer 객체 (지연 실행)": run a function once after a delay; cancel another.
#include <pyconc/threading.hpp>

#include <chrono>
#include <cstdio>

namespace threading = pyconc::threading;
using namespace std::chrono_literals;

void delayed() { std::printf("0.3초 후 실행\n"); }  // the seed waits 3 s

int main() {
  threading::Timer t(300ms, delayed);
  t.start();

  threading::Timer never(10s, [] { std::printf("이 줄은 출력되지 않음\n"); });
  never.start();
  never.cancel();  // cancelled before it fires: the thread ends at once
  never.join();
  std::printf("취소된 타이머 종료: is_alive=%s\n", never.is_alive() ? "True" : "False");

  t.join();
}
