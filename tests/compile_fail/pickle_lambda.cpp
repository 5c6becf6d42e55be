// Must NOT compile: a lambda with captures cannot cross a process boundary. The test
// (tests/CMakeLists.txt) checks that the compiler says so in the library's words.
#include "pyconc/pickle.hpp"

int main() {
  int captured = 1;
  auto lambda = [&captured] { return captured; };
  return static_cast<int>(pyconc::pickle::dumps(lambda).size());
}
