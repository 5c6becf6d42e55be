// Seed 004, "Pool을 이용한 병렬 처리": four processes square [1, 2, 3, 4].
//   def square(x):
//       return x * x
//   if __name__ == "__main__":
//       with Pool(processes=4) as pool:
//           result = pool.map(square, [1, 2, 3, 4])
//           print(result)
#include <pyconc/multiprocessing.hpp>

#include <cstdio>
#include <vector>

namespace mp = pyconc::multiprocessing;

int square(int x) { return x * x; }

int main() {
  mp::freeze_support();  // the `if __name__ == "__main__":` guard
  mp::Pool pool(4);
  std::vector<int> result = pool.map(square, std::vector{1, 2, 3, 4});
  std::printf("[");
  for (std::size_t i = 0; i < result.size(); ++i) std::printf("%s%d", i ? ", " : "", result[i]);
  std::printf("]\n");
}
