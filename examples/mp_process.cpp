// Seed 004, "multiprocessing": a Process started and joined, then five processes.
//   p = Process(target=worker, args=(1,)); p.start(); p.join()
//   for i in range(5): ... Process(target=worker, args=(i,)) ...
// The target is a plain function and its arguments are picklable: the default start method
// (forkserver) runs it in a fresh copy of this program, as Python's does. freeze_support()
// first thing in main() is the C++ twin of `if __name__ == "__main__":`.
#include <pyconc/multiprocessing.hpp>

#include <cstdio>
#include <vector>

#include <unistd.h>

namespace mp = pyconc::multiprocessing;

void worker(int n) { std::printf("작업 %d 시작 (%s, pid %d)\n", n, mp::current_process().name().c_str(), getpid()); }

int main() {
  mp::freeze_support();

  mp::Process p(worker, 1);
  p.start();  // 프로세스 시작
  p.join();   // 종료까지 대기
  std::printf("exitcode %d\n", *p.exitcode());

  std::vector<mp::Process> processes;
  for (int i = 0; i < 5; ++i) {
    processes.emplace_back(worker, i);
    processes.back().start();
  }
  for (auto& q : processes) q.join();
  std::printf("5 processes joined, start method %s\n", mp::get_start_method()->c_str());
}
