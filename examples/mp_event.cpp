// Seed 004's table "이벤트 통신 | Event()": an Event set in one process wakes a waiter in
// another.
//   def waiter(ev):
//       print("기다리는 중..."); ev.wait(); print("신호 받음!")
//   ev = Event(); p = Process(target=waiter, args=(ev,)); p.start()
//   time.sleep(0.5); ev.set(); p.join()
#include <pyconc/multiprocessing.hpp>

#include <chrono>
#include <cstdio>
#include <thread>

namespace mp = pyconc::multiprocessing;

void waiter(mp::Event ready, mp::Event go) {
  std::printf("자식: 기다리는 중...\n");
  std::fflush(stdout);
  ready.set();
  go.wait();
  std::printf("자식: 신호 받음!\n");
}

int main() {
  mp::freeze_support();
  mp::Event ready, go;
  mp::Process p(waiter, ready, go);
  p.start();
  ready.wait();  // the child is waiting now
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  std::printf("부모: set()\n");
  std::fflush(stdout);
  go.set();
  p.join();
  std::printf("exitcode = %d\n", p.exitcode().value_or(-999));
}
