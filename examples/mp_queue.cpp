// Seed 004, "Queue를 이용한 데이터 교환": a producer process and a consumer process share a
// multiprocessing Queue.
//   def producer(q): q.put("데이터")
//   def consumer(q): print(q.get())
//   q = Queue(); Process(target=producer, args=(q,)).start(); Process(target=consumer, args=(q,)).start()
#include <pyconc/multiprocessing.hpp>

#include <cstdio>
#include <string>

namespace mp = pyconc::multiprocessing;

void producer(mp::Queue<std::string> q) { q.put("데이터"); }

void consumer(mp::Queue<std::string> q) { std::printf("%s\n", q.get().c_str()); }

int main() {
  mp::freeze_support();
  mp::Queue<std::string> q;
  mp::Process a(producer, q), b(consumer, q);
  a.start();
  b.start();
  a.join();
  b.join();
  std::printf("producer exitcode %d, consumer exitcode %d, left in the queue: %zu\n", *a.exitcode(), *b.exitcode(),
              q.qsize());
}
