// ctxswitch: "a thread switch is cheaper than a process switch, because the TLB is not
// flushed" (seeds 000, 003). Two threads, or two processes, play ping-pong over a pair of
// pipes — pinned to one CPU (every hand-over is a context switch) or to two (every
// hand-over wakes the other CPU) — and between hand-overs each side touches its own
// working set, one write per 4 KiB page, so that a flushed TLB (or a cache the other side
// evicted) shows as a slower round trip. On a CPU with PCID the kernel tags TLB entries
// with the address space and does not flush them on a process switch: then threads and
// processes cost about the same, and what grows with the working set is the cache.
#include <pthread.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <system_error>
#include <thread>
#include <vector>

#include "experiments.hpp"
#include "report.hpp"

namespace pyconc::lab {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::size_t kPage = 4096;

void pin_to(int cpu) {  // the calling thread only
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  ::pthread_setaffinity_np(::pthread_self(), sizeof set, &set);
}

void touch(std::vector<char>& working_set, char value) {
  for (std::size_t i = 0; i < working_set.size(); i += kPage) working_set[i] = value;
}

void must(bool ok, const char* what) {
  if (!ok) throw std::system_error(errno, std::generic_category(), what);
}

// One side of the game: wait for the ball, touch the working set, send it back.
void play(int in, int out, std::size_t bytes, int rounds, int cpu) {
  pin_to(cpu);
  std::vector<char> working_set(bytes, 1);
  char ball = 0;
  for (int round = 0; round < rounds; ++round) {
    must(::read(in, &ball, 1) == 1, "read");
    touch(working_set, ball);
    must(::write(out, &ball, 1) == 1, "write");
  }
}

// Microseconds per round trip (two hand-overs).
double round_trip_us(bool processes, int cpu_a, int cpu_b, std::size_t bytes, int rounds) {
  int to_b[2], to_a[2];
  must(::pipe(to_b) == 0 && ::pipe(to_a) == 0, "pipe");
  const int warmup = 5;
  double micros = 0;
  auto serve = [&] { play(to_b[0], to_a[1], bytes, rounds + warmup, cpu_b); };
  auto lead = [&] {
    pin_to(cpu_a);
    std::vector<char> working_set(bytes, 1);
    char ball = 1;
    Clock::time_point started;
    for (int round = 0; round < rounds + warmup; ++round) {
      if (round == warmup) started = Clock::now();
      touch(working_set, ball);
      must(::write(to_b[1], &ball, 1) == 1, "write");
      must(::read(to_a[0], &ball, 1) == 1, "read");
    }
    micros = std::chrono::duration<double, std::micro>(Clock::now() - started).count() / rounds;
  };
  if (processes) {
    const pid_t pid = ::fork();
    must(pid >= 0, "fork");
    if (pid == 0) {
      try {
        serve();
      } catch (...) {
        ::_exit(1);
      }
      ::_exit(0);
    }
    std::thread leader(lead);  // a thread of ours, so pinning leaves main's affinity alone
    leader.join();
    int status = 0;
    ::waitpid(pid, &status, 0);
  } else {
    std::thread server(serve), leader(lead);
    leader.join();
    server.join();
  }
  for (int fd : {to_b[0], to_b[1], to_a[0], to_a[1]}) ::close(fd);
  return micros;
}

// Threads and processes alternate, three times each: one slow moment on a shared machine
// does not decide a row.
template <class Measure>
double median_of_three(Measure measure) {
  double runs[3] = {measure(), measure(), measure()};
  std::sort(runs, runs + 3);
  return runs[1];
}

std::string size_name(std::size_t bytes) {
  return bytes >= (1 << 20) ? std::to_string(bytes >> 20) + " MiB"
                            : std::to_string(bytes >> 10) + " KiB";
}

}  // namespace

void run_ctxswitch(const Options& options, Findings& findings) {
  const auto machine = machine_facts();
  const std::vector<std::size_t> sizes =
      options.quick ? std::vector<std::size_t>{4 << 10, 1 << 20, 16 << 20}
                    : std::vector<std::size_t>{4 << 10, 64 << 10, 1 << 20, 4 << 20, 16 << 20,
                                               64 << 20};
  const int base_rounds = options.quick ? 400 : 4000;
  const long min_rounds = options.quick ? 30 : 300;
  struct Placement {
    const char* name;
    const char* key;
    int cpu_b;
  };
  std::vector<Placement> placements = {{"one CPU", "same", 0}};
  if (machine.cpus > 1) placements.push_back({"two CPUs", "cross", 1});
  Table table("Ping-pong round trip (µs), each side touching its working set (one write per "
              "4 KiB page) between hand-overs",
              {"working set", "placement", "threads", "processes", "processes / threads"});
  Chart chart("roundtrip", "Ping-pong round trip by working set", "working set (KiB)",
              "round trip (µs)");
  chart.logx = true;
  chart.logy = true;
  std::vector<Series> series;
  for (const auto& placement : placements)
    for (const char* who : {"threads", "processes"})
      series.push_back({std::string(who) + ", " + placement.name, {}});
  for (std::size_t bytes : sizes) {
    const long pages = long(bytes / kPage);
    const int rounds = int(std::max(min_rounds, base_rounds / std::max(1L, pages / 16)));
    for (std::size_t p = 0; p < placements.size(); ++p) {
      const auto& placement = placements[p];
      const double threads = median_of_three([&] {
        return round_trip_us(false, 0, placement.cpu_b, bytes, rounds);
      });
      const double processes = median_of_three([&] {
        return round_trip_us(true, 0, placement.cpu_b, bytes, rounds);
      });
      table.add({size_name(bytes), placement.name, fixed(threads, 1), fixed(processes, 1),
                 fixed(processes / threads, 2) + "x"});
      const std::string key = std::string(placement.key) + "." + std::to_string(bytes >> 10) + "k";
      findings.fact("threads." + key + ".us", threads);
      findings.fact("processes." + key + ".us", processes);
      series[2 * p].points.emplace_back(bytes >> 10, threads);
      series[2 * p + 1].points.emplace_back(bytes >> 10, processes);
    }
  }
  findings.table(std::move(table));
  chart.series = std::move(series);
  findings.chart(std::move(chart));
  findings.fact("pcid", machine.pcid ? 1 : 0);
  const auto ratio = [&](const std::string& key) {
    return findings.value("processes." + key + ".us") / findings.value("threads." + key + ".us");
  };
  const std::string smallest = std::to_string(sizes.front() >> 10) + "k";
  std::size_t widest = sizes.front();  // where processes cost the most over threads
  for (std::size_t bytes : sizes)
    if (ratio("same." + std::to_string(bytes >> 10) + "k") >
        ratio("same." + std::to_string(widest >> 10) + "k"))
      widest = bytes;
  const double widest_gap = ratio("same." + std::to_string(widest >> 10) + "k");
  findings.note(
      std::string("This CPU ") + (machine.pcid ? "has" : "does not have") + " PCID. " +
      "On one CPU a process round trip cost " + fixed(ratio("same." + smallest), 2) +
      "x a thread one with " + size_name(sizes.front()) + " touched; the widest gap was " +
      fixed(widest_gap, 2) + "x, with " +
      size_name(widest) + ". " +
      (machine.pcid
           ? std::string("With PCID the switch itself does not flush the TLB (its entries "
                         "are tagged with the address space). ") +
                 (widest_gap < 1.25
                      ? "No working set opened a gap beyond noise: here a process switch "
                        "costs what a thread switch costs, and the seeds' TLB argument "
                        "holds only where the TLB is flushed (no PCID, or a kernel that "
                        "flushes anyway). "
                      : "A gap on one CPU only is the two address spaces competing for "
                        "the TLB and the page-walk caches, where two threads share one set "
                        "of page tables, or a busy neighbour: compare with a second run on "
                        "an idle machine. ")
           : "Without PCID every process switch flushes the TLB, so a process pays for "
             "re-walking its working set's page tables after each switch; threads share one "
             "address space and do not. ") +
      "Across CPUs each side keeps its own TLB and cache, and a hand-over costs the wake-up "
      "of the other CPU instead.");
}

}  // namespace pyconc::lab
