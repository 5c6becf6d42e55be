// A program that uses pyconc queues from std::thread only: nothing links the thread
// registry. It forks while one of its threads is parked in get(); the child must be able
// to park and wake threads itself (the parking lot resets in the child whichever parts of
// the library a program links). Exits 0 when every child did.
//
// It forks only once that thread is asleep in futex(2), not while it is still starting:
// the sanitizers' allocators are not fork-safe (a child deadlocks in malloc on a lock the
// parent's other thread held at fork), and that is the runtime's limit, not ours.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <atomic>
#include <thread>

#include "parked.hpp"
#include "pyconc/queue.hpp"

int main() {
  pyconc::queue::Queue<int> parent_queue;
  std::atomic<long> blocked_tid{0};
  std::thread blocked([&] {
    blocked_tid = gettid();
    parent_queue.get();  // parks in the parking lot
  });
  while (blocked_tid == 0) std::this_thread::yield();
  pyconc::testing::wait_until_parked(blocked_tid);
  int failures = 0;
  for (int i = 0; i < 20; ++i) {
    const pid_t pid = fork();
    if (pid == 0) {
      alarm(20);
      pyconc::queue::Queue<int> q;
      std::thread getter([&] { q.put(q.get() + 1); });
      q.put(1);
      getter.join();
      std::_Exit(q.get() == 2 ? 0 : 1);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) ++failures;
  }
  parent_queue.put(0);
  blocked.join();
  std::printf("fork_queue_only: %d of 20 children failed\n", failures);
  return failures == 0 ? 0 : 1;
}
