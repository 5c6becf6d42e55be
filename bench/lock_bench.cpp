// Lock acquire + release: pyconc::threading::Lock against std::mutex, each in its own
// process (side_by_side.hpp), uncontended and with 2 threads contending.
//
// "Uncontended" is measured in a process that has already run a second thread: glibc
// drops the lock prefix from std::mutex while a process has only ever had one thread, a
// case no user of a concurrency library is in (their program has threads, or they would
// not lock). Measured that way, std::mutex looks 2-3x cheaper than it ever is for them.
//   build/release/bench/lock_bench contended|uncontended [--rounds 5] [--load 2] [--size OPS]
#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "pyconc/threading/lock.hpp"
#include "side_by_side.hpp"

namespace {

using Clock = std::chrono::steady_clock;

void become_multithreaded() { std::thread([] {}).join(); }

// ns per acquire+release pair, one thread.
template <class L>
double uncontended(long ops) {
  become_multithreaded();
  L lock;
  volatile long counter = 0;
  const auto start = Clock::now();
  for (long i = 0; i < ops; ++i) {
    lock.lock();
    counter = counter + 1;
    lock.unlock();
  }
  return std::chrono::duration<double, std::nano>(Clock::now() - start).count() / ops;
}

// ns per acquire+release pair, 2 threads on one lock around a tiny critical section.
template <class L>
double contended(long ops) {
  L lock;
  long counter = 0;
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t)
    threads.emplace_back([&] {
      for (long i = 0; i < ops / 2; ++i) {
        lock.lock();
        ++counter;
        lock.unlock();
      }
    });
  for (auto& t : threads) t.join();
  const double ns = std::chrono::duration<double, std::nano>(Clock::now() - start).count() / ops;
  if (counter != ops / 2 * 2) std::exit(1);  // mutual exclusion failed
  return ns;
}

}  // namespace

// lock_bench contended|uncontended [harness flags]: the first word picks the case.
int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode != "contended" && mode != "uncontended")
    return std::fprintf(stderr, "usage: lock_bench contended|uncontended [--rounds N] [--load K]\n"), 2;
  argv[1] = argv[0];  // the harness parses the flags after the mode word
  if (mode == "uncontended")
    return bench::run_comparison(argc - 1, argv + 1,
                                 {"Lock, uncontended (in a multi-threaded process), %ld pairs",
                                  "ns/pair", false, 50'000'000,
                                  {{"pyconc::threading::Lock", uncontended<pyconc::threading::Lock>},
                                   {"std::mutex", uncontended<std::mutex>}},
                                  {mode}});
  return bench::run_comparison(argc - 1, argv + 1,
                               {"Lock, 2 threads contending, %ld pairs", "ns/pair", false, 10'000'000,
                                {{"pyconc::threading::Lock", contended<pyconc::threading::Lock>},
                                 {"std::mutex", contended<std::mutex>}},
                                {mode}});
}
