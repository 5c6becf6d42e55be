// Seed 004's table of Pool methods: map (a list of results), apply (one value), starmap
// (each tuple unpacked into the arguments), and apply_async with a callback.
#include <pyconc/multiprocessing.hpp>

#include <cstdio>
#include <tuple>
#include <vector>

namespace mp = pyconc::multiprocessing;

int power(int base, int exponent) {
  int result = 1;
  for (int i = 0; i < exponent; ++i) result *= base;
  return result;
}

void print_list(const char* label, const std::vector<int>& values) {
  std::printf("%s [", label);
  for (std::size_t i = 0; i < values.size(); ++i) std::printf("%s%d", i ? ", " : "", values[i]);
  std::printf("]\n");
}

int main() {
  mp::freeze_support();
  mp::Pool pool(2);
  std::printf("apply(power, (2, 10)) → %d\n", pool.apply(power, 2, 10));
  std::vector<std::tuple<int, int>> pairs{{2, 1}, {2, 2}, {3, 2}, {10, 3}};
  print_list("starmap(power, [(2, 1), (2, 2), (3, 2), (10, 3)]) →", pool.starmap(power, pairs));
  auto async = pool.apply_async({.callback = [](const int& r) { std::printf("callback got %d\n", r); }}, power, 3, 3);
  std::printf("apply_async(...).get() → %d\n", async.get());
  pool.close();  // no more work; join() waits for the workers to exit
  pool.join();
}
