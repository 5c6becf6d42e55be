// Seed 002, "01_thread_pool.py": ex.map(fake_io, range(5)) -> [0, 10, 20, 30, 40].
#include <pyconc/futures.hpp>

#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

int fake_io(int i) {
  std::this_thread::sleep_for(500ms);
  return i * 10;
}

int main() {
  std::vector<int> results;
  {
    pyconc::futures::ThreadPoolExecutor ex(5);
    results = ex.map(fake_io, std::vector{0, 1, 2, 3, 4}).to_vector();  // list(ex.map(...))
  }
  std::printf("[");
  for (std::size_t i = 0; i < results.size(); ++i) std::printf("%s%d", i ? ", " : "", results[i]);
  std::printf("]\n");
}
