// Seed 000 §5.3 "asyncio — 코루틴으로 대량 동시 처리": three requests at once on one thread.
//   async def fetch_data(name, seconds):
//       print(f"[{name}] 요청 시작"); await asyncio.sleep(seconds); print(f"[{name}] 요청 완료")
//       return f"{name} 결과"
//   results = await asyncio.gather(fetch_data("A", 2), fetch_data("B", 1), fetch_data("C", 3))
//   # 총 소요 시간: ~3초 (순차 실행이면 6초)
#include <pyconc/asyncio.hpp>

#include <chrono>
#include <cstdio>
#include <string>

namespace asyncio = pyconc::asyncio;

asyncio::Coroutine<std::string> fetch_data(std::string name, int seconds) {  // parameters by value
  std::printf("[%s] 요청 시작\n", name.c_str());
  co_await asyncio::sleep(std::chrono::seconds(seconds));
  std::printf("[%s] 요청 완료\n", name.c_str());
  co_return name + " 결과";
}

asyncio::Coroutine<void> main_coroutine() {
  auto& loop = asyncio::get_running_loop();
  const double start = loop.time();
  auto results = co_await asyncio::gather(fetch_data("A", 2), fetch_data("B", 1), fetch_data("C", 3));
  const auto& [a, b, c] = results;
  std::printf("모든 결과: ['%s', '%s', '%s']\n", a.c_str(), b.c_str(), c.c_str());
  std::printf("총 소요 시간: %.0f초 (순차 실행이면 6초)\n", loop.time() - start);
}

int main() { asyncio::run(main_coroutine()); }
