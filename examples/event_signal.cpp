// Event signalling (seed 004's "Event: 스레드 간 신호 전달"): three workers wait for a
// start signal; one set() releases them all.
#include <pyconc/threading.hpp>

#include <cstdio>
#include <memory>
#include <mutex>
#include <vector>

namespace threading = pyconc::threading;

int main() {
  threading::Event start_signal;
  threading::Lock print_lock;
  std::vector<std::unique_ptr<threading::Thread>> workers;
  for (int i = 1; i <= 3; ++i) {
    workers.push_back(std::make_unique<threading::Thread>(
        threading::ThreadOptions{.name = "worker-" + std::to_string(i)}, [&] {
          start_signal.wait();
          std::scoped_lock hold(print_lock);
          std::printf("%s: 신호 받음, 작업 시작\n", threading::current_thread().name().c_str());
        }));
    workers.back()->start();
  }
  std::printf("main: 준비 완료, 신호 보냄\n");
  std::fflush(stdout);
  start_signal.set();
  for (auto& w : workers) w->join();
  std::printf("main: 모두 종료, is_set=%s\n", start_signal.is_set() ? "True" : "False");
}
