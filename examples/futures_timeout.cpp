// Seed 004, "타임아웃 및 예외 처리": future.result(timeout=...) raises TimeoutError.
#include <pyconc/futures.hpp>

#include <chrono>
#include <cstdio>
#include <thread>

using namespace std::chrono_literals;

int task(int n) {
  std::this_thread::sleep_for(500ms);
  return n * n;
}

int main() {
  pyconc::futures::ThreadPoolExecutor executor(1);
  auto future = executor.submit(task, 10);
  try {
    int result = future.result(100ms);  // the seed waits 2 s for a slower task
    std::printf("결과: %d\n", result);
  } catch (const pyconc::TimeoutError&) {
    std::printf("시간 초과 발생\n");
  }
  std::printf("나중에 받은 결과: %d\n", future.result());  // the task itself goes on
}
