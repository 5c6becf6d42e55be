// A Pool task must be a plain function whose arguments and result cross processes: a
// capturing lambda is refused at compile time, in the library's words.
#include <pyconc/multiprocessing.hpp>

int main() {
  pyconc::multiprocessing::Pool pool(1);
  int base = 40;
  return pool.apply([base](int x) { return base + x; }, 2);
}
