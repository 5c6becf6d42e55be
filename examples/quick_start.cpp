// The README's quick start, kept compiling and running by the test suite.
#include <pyconc/queue.hpp>
#include <pyconc/threading.hpp>
#include <cstdio>
using namespace std::chrono_literals;
namespace threading = pyconc::threading;

int main() {
  pyconc::queue::Queue<int> q(2);                       // queue.Queue(maxsize=2)
  threading::Thread producer([&] { for (int i = 0; i < 5; ++i) q.put(i); });
  threading::Thread consumer({.name = "C1"}, [&] {
    for (int i = 0; i < 5; ++i) { std::printf("got %d\n", q.get()); q.task_done(); }
  });
  producer.start(); consumer.start();
  producer.join();                                      // all five are in the queue
  q.join();                                             // and every one is task_done()
  consumer.join();
  try { q.get(true, 100ms); } catch (const pyconc::queue::Empty&) { std::puts("empty"); }
}
