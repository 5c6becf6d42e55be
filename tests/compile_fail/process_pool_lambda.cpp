// A ProcessPoolExecutor task must be a plain function whose arguments and result cross
// processes: a capturing lambda is refused at compile time, in the library's words.
#include <pyconc/multiprocessing.hpp>

int main() {
  pyconc::futures::ProcessPoolExecutor pool(1);
  int base = 40;
  return pool.submit([base](int x) { return base + x; }, 2).result();
}
