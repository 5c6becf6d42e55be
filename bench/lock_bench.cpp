// Lock acquire/release, uncontended and with 2 threads contending: pyconc::threading::Lock
// against std::mutex, in one run, with the ratios printed at the end.
//   build/release/bench/lock_bench
#include <benchmark/benchmark.h>

#include <cstdio>
#include <map>
#include <mutex>
#include <string>

#include "pyconc/threading/lock.hpp"

namespace {

template <class L>
void uncontended(benchmark::State& state) {
  L lock;
  long counter = 0;
  for (auto _ : state) {
    lock.lock();
    benchmark::DoNotOptimize(++counter);
    lock.unlock();
  }
}

template <class L>
L& shared_lock_instance() {
  static L lock;
  return lock;
}

// Both threads hammer one lock around a tiny critical section.
template <class L>
void contended(benchmark::State& state) {
  L& lock = shared_lock_instance<L>();
  static long counter = 0;
  for (auto _ : state) {
    lock.lock();
    benchmark::DoNotOptimize(++counter);
    lock.unlock();
  }
}

BENCHMARK(uncontended<pyconc::threading::Lock>)->Name("uncontended/pyconc::Lock");
BENCHMARK(uncontended<std::mutex>)->Name("uncontended/std::mutex");
BENCHMARK(contended<pyconc::threading::Lock>)->Name("contended/pyconc::Lock")->Threads(2)->UseRealTime();
BENCHMARK(contended<std::mutex>)->Name("contended/std::mutex")->Threads(2)->UseRealTime();

// Prints the usual table, and remembers each result for the ratios.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      std::string name = run.benchmark_name();
      if (auto slash = name.find("/threads:"); slash != std::string::npos) name.resize(slash);
      if (auto real = name.find("/real_time"); real != std::string::npos) name.resize(real);
      ns_per_op_[name] = run.GetAdjustedRealTime();
    }
  }
  void print_ratios() const {
    std::printf("\nratio (pyconc::Lock time / std::mutex time; below 1 is faster):\n");
    for (const char* kind : {"uncontended", "contended"}) {
      const auto ours = ns_per_op_.find(std::string(kind) + "/pyconc::Lock");
      const auto peer = ns_per_op_.find(std::string(kind) + "/std::mutex");
      if (ours == ns_per_op_.end() || peer == ns_per_op_.end()) continue;
      std::printf("  %-12s pyconc %.2f ns  std::mutex %.2f ns  ratio %.2fx\n", kind,
                  ours->second, peer->second, ours->second / peer->second);
    }
  }

 private:
  std::map<std::string, double> ns_per_op_;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  reporter.print_ratios();
  benchmark::Shutdown();
}
