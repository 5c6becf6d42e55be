// mass: "coroutines are far cheaper than threads" (seed 001: 10,000 coroutines on one OS
// thread): 10k and 100k concurrent waits as OS threads and as asyncio coroutines, each
// run in a forked child of its own so its peak memory is its own. A thread count the
// system refuses (vm.max_map_count, threads-max, RLIMIT_NPROC) is reported, not hidden.
#include <pyconc/asyncio.hpp>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "experiments.hpp"

namespace pyconc::lab {
namespace {

using Clock = std::chrono::steady_clock;

struct MassRun {
  long started = 0;  // waits that began (fewer than asked when the system refused threads)
  double seconds = 0;
  double peak_mib = 0;  // the child's peak resident memory above what it had at the start
  std::string refused;  // why thread creation stopped, if it did
};

long peak_rss_kib() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

MassRun threads_waiting(long count, std::chrono::milliseconds wait) {
  MassRun run;
  const long base = peak_rss_kib();
  const auto started = Clock::now();
  std::vector<std::thread> threads;
  threads.reserve(count);
  try {
    for (long i = 0; i < count; ++i) threads.emplace_back([wait] { std::this_thread::sleep_for(wait); });
  } catch (const std::system_error& error) {
    run.refused = error.what();
  }
  run.started = long(threads.size());
  for (auto& thread : threads) thread.join();
  run.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  run.peak_mib = (peak_rss_kib() - base) / 1024.0;
  return run;
}

asyncio::Coroutine<void> one_wait(std::chrono::milliseconds wait) { co_await asyncio::sleep(wait); }

asyncio::Coroutine<void> all_waits(long count, std::chrono::milliseconds wait) {
  std::vector<asyncio::Coroutine<void>> waits;
  waits.reserve(count);
  for (long i = 0; i < count; ++i) waits.push_back(one_wait(wait));
  co_await asyncio::gather(std::move(waits));
}

MassRun coroutines_waiting(long count, std::chrono::milliseconds wait) {
  MassRun run;
  const long base = peak_rss_kib();
  const auto started = Clock::now();
  asyncio::run(all_waits(count, wait));
  run.started = count;
  run.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  run.peak_mib = (peak_rss_kib() - base) / 1024.0;
  return run;
}

// Runs `measure` in a forked child (a fresh peak-memory count) and reads its result back
// through a pipe.
template <class Measure>
MassRun in_child(Measure measure) {
  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) throw std::system_error(errno, std::generic_category(), "pipe");
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(pipe_fds[0]);
    const MassRun run = measure();
    const std::string line = std::to_string(run.started) + " " + std::to_string(run.seconds) +
                             " " + std::to_string(run.peak_mib) + " " + run.refused;
    if (::write(pipe_fds[1], line.data(), line.size()) < 0) ::_exit(2);
    ::_exit(0);
  }
  ::close(pipe_fds[1]);
  std::string text;
  char buffer[512];
  for (ssize_t n; (n = ::read(pipe_fds[0], buffer, sizeof buffer)) > 0;) text.append(buffer, n);
  ::close(pipe_fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || text.empty())
    throw std::runtime_error("the mass experiment's child failed");
  MassRun run;
  std::size_t used = 0;
  run.started = std::stol(text, &used);
  text = text.substr(used);
  run.seconds = std::stod(text, &used);
  text = text.substr(used);
  run.peak_mib = std::stod(text, &used);
  run.refused = used + 1 < text.size() ? text.substr(used + 1) : "";
  return run;
}

}  // namespace

void run_mass(const Options& options, Findings& findings) {
  const std::vector<long> counts = options.quick ? std::vector<long>{10'000}
                                                 : std::vector<long>{10'000, 100'000};
  const auto wait = std::chrono::milliseconds(options.quick ? 200 : 1000);
  Table table("Concurrent waits of " + std::to_string(wait.count()) + " ms each",
              {"waits", "as", "started", "seconds", "peak MiB", "KiB per wait"});
  Chart chart("memory", "Memory per concurrent wait", "concurrent waits", "KiB per wait");
  chart.logx = true;
  Series thread_series{"OS threads", {}}, coroutine_series{"asyncio coroutines", {}};
  for (long count : counts) {
    for (bool threads : {true, false}) {
      const MassRun run = threads ? in_child([&] { return threads_waiting(count, wait); })
                                  : in_child([&] { return coroutines_waiting(count, wait); });
      const double kib_per_wait = run.started ? run.peak_mib * 1024 / run.started : 0;
      table.add({std::to_string(count), threads ? "threads" : "coroutines",
                 std::to_string(run.started), fixed(run.seconds, 3), fixed(run.peak_mib, 1),
                 fixed(kib_per_wait, 2)});
      const std::string key = std::string(threads ? "threads." : "coroutines.") +
                              std::to_string(count);
      findings.fact(key + ".started", run.started);
      findings.fact(key + ".seconds", run.seconds);
      findings.fact(key + ".kib_per_wait", kib_per_wait);
      (threads ? thread_series : coroutine_series).points.emplace_back(count, kib_per_wait);
      if (!run.refused.empty())
        findings.note("The system refused thread " + std::to_string(run.started + 1) + " of " +
                      std::to_string(count) + ": " + run.refused +
                      " (each thread needs its own stack mapping; see vm.max_map_count and "
                      "kernel.threads-max).");
    }
  }
  findings.table(std::move(table));
  chart.series = {thread_series, coroutine_series};
  findings.chart(std::move(chart));
  findings.note("A thread costs a kernel task and a stack (tens of KiB resident, megabytes "
                "reserved); a coroutine costs its frame, a few hundred bytes, on one thread.");
}

}  // namespace pyconc::lab
