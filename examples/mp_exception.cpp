// Seed 004, "예외 처리 및 종료 감지": a child that raises ends with exitcode 1, and its error
// is reported on the child's stderr as "Process <name>:" and the error, as Python does.
//   def task(): raise Exception("실패!")
//   p = Process(target=task); p.start(); p.join()
//   print("정상 종료:", not p.exitcode)
#include <pyconc/multiprocessing.hpp>

#include <cstdio>

namespace mp = pyconc::multiprocessing;

void task() { throw pyconc::Error("실패!"); }

int main() {
  mp::freeze_support();
  mp::Process p(task);
  p.start();
  p.join();
  std::printf("exitcode: %d\n", *p.exitcode());
  std::printf("정상 종료: %s\n", *p.exitcode() == 0 ? "True" : "False");  // p.exitcode != 0 → 비정상 종료
}
