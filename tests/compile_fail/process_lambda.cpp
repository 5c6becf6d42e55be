// Must NOT compile: Process(target) with the default start method needs a plain function;
// a capturing lambda is refused at compile time in the library's words.
#include "pyconc/multiprocessing.hpp"

int main() {
  int captured = 1;
  pyconc::multiprocessing::Process p([&captured] { ++captured; });
  p.start();
}
