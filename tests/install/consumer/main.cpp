// A user's program, built against the installed pyconc package.
#include <pyconc/queue.hpp>
#include <pyconc/threading.hpp>

#include <cstdio>
#include <mutex>
#include <vector>

int main() {
  pyconc::threading::Lock lock;
  pyconc::queue::Queue<int> q;
  long counter = 0;
  std::vector<std::unique_ptr<pyconc::threading::Thread>> threads;
  for (int t = 0; t < 4; ++t) {
    threads.push_back(std::make_unique<pyconc::threading::Thread>([&] {
      for (int i = 0; i < 1000; ++i) {
        std::scoped_lock hold(lock);
        ++counter;
      }
      q.put(1);
    }));
    threads.back()->start();
  }
  for (auto& t : threads) t->join();
  int items = 0;
  while (!q.empty()) items += q.get();
  std::printf("consumer: %ld increments, queue %s\n", counter, items == 4 ? "drained" : "WRONG");
  return counter == 4000 && items == 4 ? 0 : 1;
}
