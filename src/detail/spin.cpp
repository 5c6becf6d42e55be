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
bool polite_yield() {
  const std::int64_t start = now_ns();
  if (start < g_yields_off_until.load(std::memory_order_relaxed)) return false;
  const std::int64_t cpu_start = process_cpu_ns();
  sched_yield();
  const std::int64_t end = now_ns();
  const std::int64_t took = end - start;
  if (took > std::chrono::nanoseconds(kSlowYield).count() && process_cpu_ns() - cpu_start < took / 2)
    pause_yields(kYieldPause);
  return true;
}

bool yields_are_cheap() { return now_ns() >= g_yields_off_until.load(std::memory_order_relaxed); }

void pause_yields(std::chrono::nanoseconds how_long) {
  g_yields_off_until.store(now_ns() + how_long.count(), std::memory_order_relaxed);
}

}  // namespace pyconc::detail
