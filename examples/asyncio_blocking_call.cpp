// Seeds 000/001: "코루틴 안에서 동기 블로킹 호출(time.sleep())을 하면 이벤트 루프 전체가 멈춘다 ...
// asyncio.to_thread()로 동기 코드를 별도 스레드에서 실행해야 한다." Debug mode names the step
// that blocked the loop; the same call through to_thread leaves the loop free.
//   async def ticker(): for i in range(3): print("tick", i); await asyncio.sleep(0.05)
//   async def bad(): time.sleep(0.3)                       # blocks everything
//   async def good(): await asyncio.to_thread(time.sleep, 0.3)
//   asyncio.run(main(), debug=True)
#include <pyconc/asyncio.hpp>
#include <pyconc/report.hpp>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

namespace asyncio = pyconc::asyncio;
using namespace std::chrono_literals;

asyncio::Coroutine<void> ticker(const char* who) {
  for (int i = 0; i < 3; ++i) {
    std::printf("%s: tick %d\n", who, i);
    co_await asyncio::sleep(50ms);
  }
}

void blocking_io() { std::this_thread::sleep_for(300ms); }  // time.sleep(0.3)

asyncio::Coroutine<void> bad() {
  blocking_io();  // inside the coroutine: the loop stops for 300 ms
  co_return;
}

asyncio::Coroutine<void> good() { co_await asyncio::to_thread(blocking_io); }

asyncio::Coroutine<void> main_coroutine() {
  auto& loop = asyncio::get_running_loop();
  double start = loop.time();
  co_await asyncio::gather(ticker("bad"), bad());
  std::printf("블로킹 호출: %.1f초 동안 루프가 멈춤\n", loop.time() - start);
  start = loop.time();
  co_await asyncio::gather(ticker("good"), good());
  std::printf("to_thread: 틱이 계속됨 (%.1f초)\n", loop.time() - start);
}

int main() {
  pyconc::set_report_sink([](std::string_view text) { std::printf("[debug] %.*s", static_cast<int>(text.size()), text.data()); });
  asyncio::run(main_coroutine(), /*debug=*/true);
}
