// Seed 004 "여러 작업을 동시에 실행" and "무한 루프 & 병렬 반복": gather of three tasks, then
// two workers started with create_task.
//   async def task(name): await asyncio.sleep(1); print(f"{name} 완료")
//   await asyncio.gather(task("A"), task("B"), task("C"))
//   async def worker(n):
//       for i in range(3): await asyncio.sleep(1); print(f"작업 {n}: {i}")
//   tasks = [asyncio.create_task(worker(i)) for i in range(2)]
//   await asyncio.gather(*tasks)
#include <pyconc/asyncio.hpp>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

namespace asyncio = pyconc::asyncio;
using namespace std::chrono_literals;

asyncio::Coroutine<void> task(std::string name) {
  co_await asyncio::sleep(1s);
  std::printf("%s 완료\n", name.c_str());
}

asyncio::Coroutine<void> worker(int n) {
  for (int i = 0; i < 3; ++i) {
    co_await asyncio::sleep(1s);
    std::printf("작업 %d: %d\n", n, i);
  }
}

asyncio::Coroutine<void> main_coroutine() {
  co_await asyncio::gather(task("A"), task("B"), task("C"));
  std::vector<asyncio::Task<void>> tasks;
  for (int i = 0; i < 2; ++i) tasks.push_back(asyncio::create_task(worker(i)));
  co_await asyncio::gather(tasks);
}

int main() { asyncio::run(main_coroutine()); }
