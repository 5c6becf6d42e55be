// wait_for timing out (Python's asyncio.wait_for): the slow call is cancelled, and wait_for
// waits for it to finish before raising TimeoutError.
//   async def slow():
//       try: await asyncio.sleep(10)
//       except asyncio.CancelledError: print("slow: 취소됨, 정리 중"); raise
//   try: await asyncio.wait_for(slow(), timeout=0.1)
//   except TimeoutError: print("TimeoutError")
#include <pyconc/asyncio.hpp>

#include <chrono>
#include <cstdio>

namespace asyncio = pyconc::asyncio;
using namespace std::chrono_literals;

asyncio::Coroutine<int> slow() {
  try {
    co_await asyncio::sleep(10s);
  } catch (const asyncio::CancelledError&) {  // a BaseException: catch (std::exception&) would not see it
    std::printf("slow: 취소됨, 정리 중\n");
    throw;
  }
  co_return 1;
}

asyncio::Coroutine<void> main_coroutine() {
  try {
    co_await asyncio::wait_for(slow(), 100ms);
  } catch (const pyconc::TimeoutError&) {
    std::printf("TimeoutError\n");
  }
  std::printf("빠른 호출: %d\n", co_await asyncio::wait_for(asyncio::sleep(1ms, 7), 1s));
}

int main() { asyncio::run(main_coroutine()); }
