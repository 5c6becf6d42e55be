// Seed 004, "Value, Array를 이용한 공유 메모리": ten processes add to one Value under its lock.
//   def increment(val):
//       with val.get_lock():
//           val.value += 1
//   counter = Value('i', 0); ... 10 processes ...; print("최종 값:", counter.value)
#include <pyconc/multiprocessing.hpp>

#include <cstdio>
#include <mutex>
#include <vector>

namespace mp = pyconc::multiprocessing;

void increment(mp::Value<int> val) {
  std::scoped_lock hold(val.get_lock());  // with val.get_lock():
  val.set_value(val.value() + 1);         //     val.value += 1
}

int main() {
  mp::freeze_support();
  mp::Value<int> counter(0);  // 'i' = int
  std::vector<mp::Process> processes;
  for (int i = 0; i < 10; ++i) processes.emplace_back(increment, counter);
  for (auto& p : processes) p.start();
  for (auto& p : processes) p.join();
  std::printf("최종 값: %d\n", counter.value());
}
