// Seed 002, "02_process_pool.py": CPU-bound work in a ProcessPoolExecutor.
//   def heavy(n):
//       return sum(i * i for i in range(n))
//   if __name__ == "__main__":
//       with ProcessPoolExecutor() as ex:
//           results = list(ex.map(heavy, [100_000, 200_000, 300_000]))
//       print(results)      # [333328333350000, 2666646666700000, 8999955000050000]
// Seed 000's heavy_computation (4 x 10**6 with max_workers=4) follows.
#include <pyconc/multiprocessing.hpp>

#include <cstdio>
#include <vector>

namespace mp = pyconc::multiprocessing;
namespace futures = pyconc::futures;

long long heavy(long long n) {
  long long sum = 0;
  for (long long i = 0; i < n; ++i) sum += i * i;
  return sum;
}

int main() {
  mp::freeze_support();  // the `if __name__ == "__main__":` guard
  std::vector<long long> results;
  {
    futures::ProcessPoolExecutor ex;
    results = ex.map(heavy, std::vector<long long>{100'000, 200'000, 300'000}).to_vector();
  }
  std::printf("[");
  for (std::size_t i = 0; i < results.size(); ++i) std::printf("%s%lld", i ? ", " : "", results[i]);
  std::printf("]\n");

  futures::ProcessPoolExecutor executor(4);  // seed 000: with ProcessPoolExecutor(max_workers=4)
  for (long long r : executor.map(heavy, std::vector<long long>(4, 1'000'000))) std::printf("결과: %lld\n", r);
}
