// A pool worker killed in the middle of a task. Python's Pool replaces the worker but loses
// the task: its get() never returns (CPython gh-66587). pyconc's Pool fails that one task
// with WorkerLostError naming the signal, and goes on with a new worker.
#include <pyconc/multiprocessing.hpp>

#include <signal.h>
#include <unistd.h>

#include <cstdio>

namespace mp = pyconc::multiprocessing;

int die_by_sigkill(int) {
  ::kill(::getpid(), SIGKILL);  // as the OOM killer or `kill -9` would
  return 0;
}
int square(int x) { return x * x; }

int main() {
  mp::freeze_support();
  mp::Pool pool(2);
  auto doomed = pool.apply_async(die_by_sigkill, 0);
  try {
    doomed.get();
  } catch (const mp::WorkerLostError& e) {
    std::printf("the task failed: WorkerLostError: %s\n", e.what());
  }
  std::printf("the pool goes on: square(12) = %d\n", pool.apply(square, 12));
}
