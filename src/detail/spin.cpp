#include "pyconc/detail/spin.hpp"

#include <sched.h>
#include <time.h>

#include <atomic>

#include "pyconc/timeout.hpp"

namespace pyconc::detail {

namespace {
// Until when yields are off, in steady-clock nanoseconds; read on every yield, written
// only after a slow one, so the cache line stays shared.
std::atomic<std::int64_t> g_yields_off_until{0};

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

std::int64_t process_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}
}  // namespace

// A slow yield alone does not tell who took the CPU: one of our threads may simply have
// run its full slice. The process's CPU time does: if, while we were away, this process
// got less than half the wall time we waited, the CPU went to someone else.
//
// Reading the process's CPU time is a system call that sums over every thread (1.3 us on
// the 2-core VMs, as much as the yield itself), so a thread reads it around one yield in
// kCpuSampleEvery, and around the next one after any slow yield it did not sample: a
// CPU-bound neighbour is found on the second slow yield at worst.
bool polite_yield() {
  thread_local unsigned yields = 0;
  thread_local bool sample_next = false;
  const std::int64_t start = now_ns();
  if (start < g_yields_off_until.load(std::memory_order_relaxed)) return false;
  const bool sampled = sample_next || ++yields % kCpuSampleEvery == 0;
  const std::int64_t cpu_start = sampled ? process_cpu_ns() : 0;
  sched_yield();
  const std::int64_t took = now_ns() - start;
  const bool slow = took > std::chrono::nanoseconds(kSlowYield).count();
  sample_next = slow && !sampled;
  if (slow && sampled && process_cpu_ns() - cpu_start < took / 2) pause_yields(kYieldPause);
  return true;
}

bool yields_are_cheap() { return now_ns() >= g_yields_off_until.load(std::memory_order_relaxed); }

void pause_yields(std::chrono::nanoseconds how_long) {
  g_yields_off_until.store(now_ns() + how_long.count(), std::memory_order_relaxed);
}

}  // namespace pyconc::detail
