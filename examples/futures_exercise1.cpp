// Seed 002, "과제 1 — 동시 다운로드 시간 비교": five downloads, sequential vs a pool of 5.
#include <pyconc/futures.hpp>

#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

int fetch(int i) {
  std::this_thread::sleep_for(200ms);  // time.sleep 으로 네트워크 흉내 (the seed sleeps 1 s)
  return i;
}

int main() {
  const std::vector<int> urls = {0, 1, 2, 3, 4};

  auto start = Clock::now();
  for (int u : urls) fetch(u);
  std::printf("순차: %.1fs\n", std::chrono::duration<double>(Clock::now() - start).count());

  start = Clock::now();
  std::vector<int> results;
  {
    pyconc::futures::ThreadPoolExecutor ex(5);
    results = ex.map(fetch, urls).to_vector();
  }
  std::printf("스레드: %.1fs\n", std::chrono::duration<double>(Clock::now() - start).count());
  std::printf("결과 %zu개\n", results.size());
}
