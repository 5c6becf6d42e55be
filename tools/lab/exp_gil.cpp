// gil: "CPU-bound threads gain nothing under the GIL; I/O-bound threads do" (seeds 001,
// 002), and the convoy effect: a thread back from I/O waits for a CPU-bound holder to
// reach a forced drop, about one switch interval.
//
// The CPU work is a dependency chain (each step needs the last), so no compiler turns it
// into vector code and every variant does the same instructions. Under the GIL a thread
// calls check() every kCheckEvery steps, where CPython's eval loop would check.
#include <pyconc/gil.hpp>
#include <pyconc/multiprocessing.hpp>

#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "experiments.hpp"

namespace pyconc::lab {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using Seconds = std::chrono::duration<double>;

constexpr long kCheckEvery = 1000;

std::uint64_t chain(long steps, gil::InterpreterLock* gil) {
  std::uint64_t x = 88172645463325252ull;
  for (long i = 0; i < steps; ++i) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    if (gil && i % kCheckEvery == 0) gil->check();
  }
  return x;
}

std::atomic<std::uint64_t> g_sink{0};  // keeps the work from being optimised away

// A run's wall time and the CPU time it used: their ratio is how many cores it kept busy,
// which a loaded machine does not blur the way it blurs a speed-up (the sequential run it
// is compared with is slowed too, by different amounts).
struct CpuRun {
  Seconds wall{0};
  Seconds cpu{0};
  double cores() const { return cpu / wall; }
};

Seconds process_cpu_time() {
  timespec now{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return Seconds(now.tv_sec + now.tv_nsec * 1e-9);
}

Seconds children_cpu_time() {  // of the children reaped so far
  rusage usage{};
  ::getrusage(RUSAGE_CHILDREN, &usage);
  return Seconds(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
                 (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1e-6);
}

// `tasks` chains of `steps` on `threads` threads (each takes the next task), optionally
// all under one GIL.
CpuRun cpu_threads(int threads, int tasks, long steps, bool with_gil) {
  gil::InterpreterLock gil;
  std::atomic<int> next{0};
  const auto cpu_before = process_cpu_time();
  const auto started = Clock::now();
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&] {
      std::unique_lock hold(gil, std::defer_lock);
      if (with_gil) hold.lock();
      while (next.fetch_add(1) < tasks) g_sink += chain(steps, with_gil ? &gil : nullptr);
    });
  for (auto& worker : workers) worker.join();
  return {Clock::now() - started, process_cpu_time() - cpu_before};
}

CpuRun cpu_processes(int processes, int tasks, long steps) {
  auto context = multiprocessing::get_context("fork");
  const auto cpu_before = children_cpu_time();
  const auto started = Clock::now();
  std::vector<multiprocessing::Process> children;
  for (int p = 0; p < processes; ++p) {
    const int mine = tasks / processes + (p < tasks % processes ? 1 : 0);
    children.push_back(context.Process([mine, steps] {
      for (int task = 0; task < mine; ++task) g_sink += chain(steps, nullptr);
    }));
  }
  for (auto& child : children) child.start();
  for (auto& child : children) child.join();
  return {Clock::now() - started, children_cpu_time() - cpu_before};
}

// I/O-bound: each task holds the GIL for a little work, then waits `io` with it released.
Seconds io_threads(int threads, int tasks, std::chrono::milliseconds io) {
  gil::InterpreterLock gil;
  std::atomic<int> next{0};
  const auto started = Clock::now();
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&] {
      std::scoped_lock hold(gil);
      while (next.fetch_add(1) < tasks) {
        g_sink += chain(10'000, &gil);
        gil::Released blocking(gil);  // Py_BEGIN_ALLOW_THREADS around the read
        std::this_thread::sleep_for(io);
      }
    });
  for (auto& worker : workers) worker.join();
  return Clock::now() - started;
}

// How long an I/O thread waits to get the GIL back after each 1 ms "read", with and
// without a CPU-bound thread holding it. Milliseconds.
std::vector<double> convoy(bool cpu_thread, int rounds) {
  gil::InterpreterLock gil;
  std::atomic<bool> done{false};
  threading::Event cpu_holding;
  std::thread cpu;
  if (cpu_thread)
    cpu = std::thread([&] {
      std::scoped_lock hold(gil);
      cpu_holding.set();
      while (!done.load(std::memory_order_relaxed)) g_sink += chain(kCheckEvery, &gil);
    });
  else
    cpu_holding.set();
  cpu_holding.wait();
  std::vector<double> waits;
  {
    std::scoped_lock hold(gil);
    for (int round = 0; round < rounds; ++round) {
      gil.release();
      std::this_thread::sleep_for(1ms);  // the read
      const auto back = Clock::now();
      gil.acquire();
      waits.push_back(std::chrono::duration<double, std::milli>(Clock::now() - back).count());
    }
  }
  done = true;
  if (cpu.joinable()) cpu.join();
  return waits;
}

void cpu_bound(const Options& options, Findings& findings) {
  const int tasks = 4;
  const long steps = options.quick ? 20'000'000 : 300'000'000;
  const std::vector<int> counts = {1, 2, 4};
  const Seconds sequential = cpu_threads(1, tasks, steps, false).wall;
  Table table("CPU-bound: 4 tasks of " + std::to_string(steps / 1'000'000) +
                  "M dependent steps (sequential " + fixed(sequential.count(), 3) +
                  " s): speed-up, and cores kept busy (CPU time / wall time)",
              {"threads or processes", "under the GIL", "cores", "free-threaded", "cores",
               "processes", "cores"});
  Chart chart("cpu", "CPU-bound work: speed-up over one thread", "threads or processes",
              "speed-up (x)");
  Series gil_series{"threads under the GIL", {}}, free_series{"free-threaded", {}},
      process_series{"processes (fork)", {}};
  for (int n : counts) {
    const CpuRun runs[] = {cpu_threads(n, tasks, steps, true), cpu_threads(n, tasks, steps, false),
                           cpu_processes(n, tasks, steps)};
    const char* keys[] = {"gil", "free", "processes"};
    Series* series[] = {&gil_series, &free_series, &process_series};
    std::vector<std::string> row = {std::to_string(n)};
    for (int v = 0; v < 3; ++v) {
      const double speedup = sequential / runs[v].wall;
      row.push_back(fixed(speedup, 2) + "x");
      row.push_back(fixed(runs[v].cores(), 2));
      series[v]->points.emplace_back(n, speedup);
      findings.fact(std::string("cpu.speedup.") + keys[v] + "." + std::to_string(n), speedup);
      findings.fact(std::string("cpu.cores.") + keys[v] + "." + std::to_string(n), runs[v].cores());
    }
    table.add(std::move(row));
  }
  findings.table(std::move(table));
  chart.series = {gil_series, free_series, process_series};
  findings.chart(std::move(chart));
}

void io_bound(const Options& options, Findings& findings) {
  const int tasks = options.quick ? 16 : 64;
  const auto io = options.quick ? 10ms : 20ms;
  const Seconds one = io_threads(1, tasks, io);
  Table table("I/O-bound under the GIL: " + std::to_string(tasks) + " reads of " +
                  std::to_string(io.count()) + " ms, the GIL released around each",
              {"threads", "seconds", "speed-up"});
  Chart chart{"io", "I/O-bound work under the GIL: speed-up over one thread", "threads",
              "speed-up (x)"};
  Series series{"threads under the GIL", {}};
  for (int n : {1, 2, 4, 8}) {
    const Seconds took = n == 1 ? one : io_threads(n, tasks, io);
    const double speedup = one / took;
    table.add({std::to_string(n), fixed(took.count(), 3), fixed(speedup, 2) + "x"});
    series.points.emplace_back(n, speedup);
    findings.fact("io.speedup." + std::to_string(n), speedup);
  }
  findings.table(std::move(table));
  chart.series = {series};
  findings.chart(std::move(chart));
}

void convoy_effect(const Options& options, Findings& findings) {
  const int rounds = options.quick ? 20 : 200;
  Table table("The convoy effect: an I/O thread's wait for the GIL after each 1 ms read "
              "(switch interval 5 ms), " + std::to_string(rounds) + " reads",
              {"other thread", "median ms", "p99 ms", "max ms"});
  for (bool cpu : {false, true}) {
    const auto waits = convoy(cpu, rounds);
    const double median = percentile(waits, 0.5);
    table.add({cpu ? "a CPU-bound thread holds the GIL" : "none",
               fixed(median, 3), fixed(percentile(waits, 0.99), 3),
               fixed(*std::max_element(waits.begin(), waits.end()), 3)});
    findings.fact(std::string("convoy.median_ms.") + (cpu ? "cpu" : "alone"), median);
  }
  findings.table(std::move(table));
}

}  // namespace

void run_gil(const Options& options, Findings& findings) {
  cpu_bound(options, findings);
  io_bound(options, findings);
  convoy_effect(options, findings);
  findings.note("Under the GIL, CPU-bound threads take turns (about 1x however many); "
                "free-threaded threads and processes use both cores. Threads that wait "
                "with the GIL released overlap their waits. A thread back from I/O waits "
                "about one switch interval while a CPU-bound thread holds the GIL.");
}

}  // namespace pyconc::lab
