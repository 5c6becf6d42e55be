// Seed 002, "04_compare.py": five 0.5 s tasks, one after another and then in a pool of 5.
#include <pyconc/futures.hpp>

#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

int task(int i) {
  std::this_thread::sleep_for(500ms);
  return i;
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

int main() {
  auto start = Clock::now();
  std::vector<int> sequential;
  for (int i = 0; i < 5; ++i) sequential.push_back(task(i));
  std::printf("순차: %.2fs\n", seconds_since(start));

  start = Clock::now();
  std::vector<int> threaded;
  {
    pyconc::futures::ThreadPoolExecutor ex(5);
    threaded = ex.map(task, std::vector{0, 1, 2, 3, 4}).to_vector();
  }
  std::printf("스레드: %.2fs\n", seconds_since(start));
  std::printf("같은 결과: %s\n", sequential == threaded ? "True" : "False");
}
