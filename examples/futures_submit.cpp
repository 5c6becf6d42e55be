// Seed 004, "ThreadPoolExecutor 예시": submit one task, read its result.
#include <pyconc/futures.hpp>

#include <cstdio>

int task(int n) { return n * n; }

int main() {
  pyconc::futures::ThreadPoolExecutor executor(4);  // with ThreadPoolExecutor(max_workers=4):
  auto future = executor.submit(task, 10);
  std::printf("%d\n", future.result());  // 결과: 100
}
