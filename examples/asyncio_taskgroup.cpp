// A TaskGroup where one task fails (Python 3.11's structured concurrency):
//   async def work(n): await asyncio.sleep(n / 10); print(f"작업 {n} 완료"); return n
//   async def broken(): await asyncio.sleep(0.05); raise ValueError("작업 실패")
//   try:
//       async with asyncio.TaskGroup() as tg:
//           tg.create_task(work(1)); tg.create_task(broken()); tg.create_task(work(9))
//   except* ValueError as eg: print("ExceptionGroup:", eg.exceptions)
#include <pyconc/asyncio.hpp>

#include <chrono>
#include <cstdio>

namespace asyncio = pyconc::asyncio;

asyncio::Coroutine<int> work(int n) {
  try {
    co_await asyncio::sleep(std::chrono::milliseconds(n * 100));
  } catch (const asyncio::CancelledError&) {
    std::printf("작업 %d 취소됨\n", n);  // the group cancels the siblings of a failed task
    throw;
  }
  std::printf("작업 %d 완료\n", n);
  co_return n;
}

asyncio::Coroutine<int> broken() {
  co_await asyncio::sleep(std::chrono::milliseconds(150));
  throw pyconc::ValueError("작업 실패");
}

asyncio::Coroutine<void> main_coroutine() {
  try {
    co_await asyncio::task_group([](asyncio::TaskGroup& tg) -> asyncio::Coroutine<void> {
      tg.create_task(work(1));
      tg.create_task(broken());
      tg.create_task(work(9));
      co_return;
    });
  } catch (const pyconc::ExceptionGroup& group) {
    std::printf("%s\n", group.what());
    for (const auto& error : group.exceptions()) {
      try {
        std::rethrow_exception(error);
      } catch (const pyconc::Error& e) {
        std::printf("  %s: %s\n", e.type_name(), e.what());
      }
    }
  }
}

int main() { asyncio::run(main_coroutine()); }
