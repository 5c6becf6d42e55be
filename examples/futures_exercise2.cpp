// Seed 002, 과제 2 "CPU 작업 프로세스 풀": the big sum, three times, in a ProcessPoolExecutor,
// with the function at the top level and the __main__ guard (freeze_support here).
//   if __name__ == "__main__":
//       with ProcessPoolExecutor() as ex:
//           results = list(ex.map(heavy, [100_000] * 3))
//       print(results)      # [333328333350000, 333328333350000, 333328333350000]
#include <pyconc/multiprocessing.hpp>

#include <cstdio>
#include <vector>

long long heavy(long long n) {
  long long sum = 0;
  for (long long i = 0; i < n; ++i) sum += i * i;
  return sum;
}

int main() {
  pyconc::multiprocessing::freeze_support();
  std::vector<long long> results;
  {
    pyconc::futures::ProcessPoolExecutor ex;
    results = ex.map(heavy, std::vector<long long>(3, 100'000)).to_vector();
  }
  std::printf("[");
  for (std::size_t i = 0; i < results.size(); ++i) std::printf("%s%lld", i ? ", " : "", results[i]);
  std::printf("]\n");
}
