// Seeds 000 and 001, "multiprocessing — 프로세스로 GIL 우회": four processes, each summing
// squares up to ten million, in parallel.
//   def heavy_task(n):
//       return sum(i * i for i in range(n))
//   with Pool(4) as pool:
//       results = pool.map(heavy_task, [10_000_000] * 4)
// The sum (3.3e20) needs more than 64 bits, which Python's int has; here it is a 128-bit
// sum, returned as its decimal digits.
#include <pyconc/multiprocessing.hpp>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

namespace mp = pyconc::multiprocessing;

std::string heavy_task(long n) {
  unsigned __int128 sum = 0;
  for (long i = 0; i < n; ++i) sum += static_cast<unsigned __int128>(i) * i;
  std::string digits;
  do {
    digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(sum % 10)));
    sum /= 10;
  } while (sum > 0);
  return digits;
}

int main() {
  mp::freeze_support();
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::string> results;
  {
    mp::Pool pool(4);
    results = pool.map(heavy_task, std::vector<long>(4, 10'000'000));
  }
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  for (const auto& r : results) std::printf("%s\n", r.c_str());
  std::printf("4 tasks on %ld CPUs in %.2f s\n", mp::cpu_count(), took.count());
}
