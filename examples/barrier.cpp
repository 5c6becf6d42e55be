// Barrier: three runners wait at the start line; the last to arrive fires the action, then
// all run the next leg together. Indices 0..2 tell the arrival order.
#include <pyconc/threading.hpp>

#include <cstdio>
#include <memory>
#include <mutex>
#include <vector>

namespace threading = pyconc::threading;

int main() {
  threading::Lock print_lock;
  int legs = 0;
  threading::Barrier start_line(3, [&] { std::printf("--- 모두 도착: 구간 %d 출발 ---\n", ++legs); });
  std::vector<std::unique_ptr<threading::Thread>> runners;
  for (int i = 1; i <= 3; ++i) {
    runners.push_back(std::make_unique<threading::Thread>(
        threading::ThreadOptions{.name = "runner-" + std::to_string(i)}, [&] {
          for (int leg = 0; leg < 2; ++leg) {
            const auto index = start_line.wait();
            std::scoped_lock hold(print_lock);
            std::printf("%s: 통과 (index %lld)\n", threading::current_thread().name().c_str(),
                        static_cast<long long>(index));
          }
        }));
    runners.back()->start();
  }
  for (auto& r : runners) r->join();
  std::printf("구간 %d개 완료, broken=%s\n", legs, start_line.broken() ? "True" : "False");
}
