// Seed 000, "큐 종류": FIFO Queue, LIFO LifoQueue, smallest-first PriorityQueue.
#include <pyconc/queue.hpp>

#include <cstdio>
#include <string>
#include <utility>

namespace queue = pyconc::queue;

template <class Q>
void drain(const char* label, Q& q) {
  std::printf("%s:", label);
  while (!q.empty()) std::printf(" %d", q.get());
  std::printf("\n");
}

int main() {
  queue::Queue<int> fifo(10);          // FIFO (일반적인 큐)
  queue::LifoQueue<int> lifo(10);      // LIFO (스택)
  queue::PriorityQueue<int> prio(10);  // 우선순위 큐
  for (int x : {111, 333, 222}) {
    fifo.put(x);
    lifo.put(x);
    prio.put(x);
  }
  drain("Queue", fifo);
  drain("LifoQueue", lifo);
  drain("PriorityQueue", prio);

  // (priority, task) pairs compare like Python tuples: priority first, then the task.
  queue::PriorityQueue<std::pair<int, std::string>> tasks;
  tasks.put({2, "write report"});
  tasks.put({1, "fix outage"});
  tasks.put({2, "answer mail"});
  while (!tasks.empty()) {
    auto [priority, task] = tasks.get();
    std::printf("priority %d: %s\n", priority, task.c_str());
  }

  // Ordered by priority alone, equal priorities come out in insertion order (Python's
  // heap does not promise that; pyconc does).
  auto by_priority = [](const auto& a, const auto& b) { return a.first < b.first; };
  queue::PriorityQueue<std::pair<int, std::string>, decltype(by_priority)> jobs(0, by_priority);
  jobs.put({2, "write report"});
  jobs.put({1, "fix outage"});
  jobs.put({2, "answer mail"});
  while (!jobs.empty()) std::printf("by priority only: %s\n", jobs.get().second.c_str());
}
