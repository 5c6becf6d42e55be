// Seed 000, producer/consumer stage 5: queue.Queue(maxsize=2) does all of the above.
#include <pyconc/queue.hpp>
#include <pyconc/threading.hpp>

#include <cstdio>
#include <string>

namespace threading = pyconc::threading;

pyconc::queue::Queue<std::string> q(2);  // 자바의 ArrayBlockingQueue(2)

void producer(const std::string& name) {
  for (int i = 0; i < 3; ++i) {
    std::string data = "data-" + std::to_string(i);
    q.put(data);  // 큐가 가득 차면 자동 대기
    std::printf("[%s] 생산: %s\n", name.c_str(), data.c_str());
  }
}

void consumer(const std::string& name) {
  for (int i = 0; i < 3; ++i) {
    std::string data = q.get();  // 큐가 비면 자동 대기
    std::printf("[%s] 소비: %s\n", name.c_str(), data.c_str());
    q.task_done();
  }
}

int main() {
  threading::Thread t1(producer, std::string("P1"));
  threading::Thread t2(consumer, std::string("C1"));
  t1.start();
  t2.start();
  t1.join();
  t2.join();
  q.join();
  std::printf("unfinished_tasks: %llu\n", static_cast<unsigned long long>(q.unfinished_tasks()));
}
