// Plain functions the pool tests run in their workers (a spawned worker is a fresh image of
// this program, so a target must be a function, not a lambda). Shared by Pool and
// ProcessPoolExecutor tests, so that the two files can be compiled as one (a unity build).
#pragma once

#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "mp_support.hpp"
#include "pyconc/errors.hpp"

namespace pyconc::testing::workers {

inline int square(int x) { return x * x; }
inline int add(int a, int b) { return a + b; }
inline int sleep_ms(int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return ms;
}
inline int my_pid(int) { return static_cast<int>(::getpid()); }
// Writes its pid to `path`, then sleeps: the test knows which worker to kill.
inline int announce_and_sleep(std::string path, int ms) {
  write_file(path, std::to_string(::getpid()));
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return 0;
}
inline void failing_initializer(int) { throw pyconc::RuntimeError("initializer refuses"); }

}  // namespace pyconc::testing::workers
