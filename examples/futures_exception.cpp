// Seed 004, "예외 처리 예": the task's exception surfaces at result(). And seed 002's
// warning — an unread future swallows its exception — shown by pyconc's report.
#include <pyconc/futures.hpp>

#include <cstdio>

int fail_task() { throw pyconc::ValueError("실패"); }

int main() {
  pyconc::futures::ThreadPoolExecutor executor(2);
  auto future = executor.submit(fail_task);
  try {
    int result = future.result();
    std::printf("결과: %d\n", result);
  } catch (const std::exception& e) {
    std::printf("예외 발생: %s\n", e.what());
  }

  // Future 결과를 안 받음 — 예외가 묻힘: pyconc reports it (on stderr) when the last handle goes.
  executor.submit(fail_task).exception(pyconc::forever);  // read: no report
  std::printf("읽지 않은 Future의 예외:\n");
  std::fflush(stdout);
  {
    auto unread = executor.submit(fail_task);
    executor.shutdown();
  }
}
