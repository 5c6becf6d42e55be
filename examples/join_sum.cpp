// Seed 000, "join()으로 결과 기다리기": two threads sum halves of 1..100; join, then 5050.
#include <pyconc/threading.hpp>

#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <string>
#include <thread>

namespace threading = pyconc::threading;
using namespace std::chrono_literals;

std::map<std::string, long> results;
threading::Lock results_lock;  // a Python dict is safe to share; a std::map needs a lock

void sum_range(const std::string& name, long start, long end) {
  std::this_thread::sleep_for(100ms);  // the seed sleeps 1 s
  long total = 0;
  for (long i = start; i <= end; ++i) total += i;
  std::scoped_lock hold(results_lock);
  results[name] = total;
}

int main() {
  threading::Thread t1(sum_range, std::string("task1"), 1L, 50L);
  threading::Thread t2(sum_range, std::string("task2"), 51L, 100L);

  t1.start();
  t2.start();

  // join() 없이 바로 결과를 읽으면 빈 딕셔너리일 수 있음!
  t1.join();
  t2.join();  // t.join(5s) would wait at most 5 seconds

  std::printf("합계: %ld\n", results["task1"] + results["task2"]);  // 5050
}
