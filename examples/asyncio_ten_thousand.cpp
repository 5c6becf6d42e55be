// Seed 001 §3.3: "10,000개의 코루틴을 동시에 실행 — OS 스레드는 1개뿐".
//   async def fetch_data(url): await some_async_http_call(url)
//   tasks = [fetch_data(f"https://api.example.com/{i}") for i in range(10_000)]
//   await asyncio.gather(*tasks)
// The HTTP call is a 100 ms sleep here: 10,000 waits overlap, so the whole takes ~0.1 s.
#include <pyconc/asyncio.hpp>
#include <pyconc/threading.hpp>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

namespace asyncio = pyconc::asyncio;

asyncio::Coroutine<std::size_t> fetch_data(std::string url) {
  co_await asyncio::sleep(std::chrono::milliseconds(100));  // some_async_http_call(url)
  co_return url.size();
}

asyncio::Coroutine<void> main_coroutine() {
  auto& loop = asyncio::get_running_loop();
  const double start = loop.time();
  std::vector<asyncio::Coroutine<std::size_t>> tasks;
  for (int i = 0; i < 10'000; ++i) tasks.push_back(fetch_data("https://api.example.com/" + std::to_string(i)));
  auto sizes = co_await asyncio::gather(std::move(tasks));
  std::printf("%zu개 완료, 스레드 %zu개, %.2f초\n", sizes.size(), pyconc::threading::active_count(),
              loop.time() - start);
}

int main() { asyncio::run(main_coroutine()); }
