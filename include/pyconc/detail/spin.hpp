// How pyconc waits before it parks: every spin and yield constant lives here, with the cost
// model that justifies it (figures from ARCHITECTURE.md, measured on the 2-core machines).
//
//   - a park/unpark round trip costs ~3 us on one CPU and ~30 us across CPUs;
//   - a critical section of pyconc's own (a queue's put/get) lasts 20-100 ns;
//   - on an idle machine, sched_yield() hands the CPU to a runnable thread of ours on the
//     same CPU in ~1 us: cheaper than any park, so stepping aside is the fast path;
//   - on a shared machine, sched_yield() may hand the CPU to another CPU-bound process for
//     a whole time slice (milliseconds): then yielding is the slowest thing we can do, and
//     a short pause-spin followed by parking is right.
//
// So yields are adaptive: polite_yield() times each yield, and one that takes longer than
// kSlowYield, during which this process got less than half that time on the CPUs (read
// around sampled yields only: see kCpuSampleEvery), means
// another process took the CPU; yields are then off, process-wide, for
// kYieldPause, after which one is tried again. While yields are off, callers spin with the
// pause instruction (a bounded kSpinPauses budget) and then park.
#pragma once

#include <chrono>

namespace pyconc::detail {

// A yield slower than this was not a switch between our own threads.
inline constexpr std::chrono::microseconds kSlowYield{200};
// One yield in this many reads the process's CPU time (a costly system call) to tell a
// slow yield to a neighbour from one to our own thread; so does the one after a slow yield.
inline constexpr unsigned kCpuSampleEvery = 16;
// How long yields stay off after a slow one (re-probing costs one slow yield).
inline constexpr std::chrono::milliseconds kYieldPause{100};
// Yields a Lock spends before parking when yields are cheap (CPython's PyMutex also yields).
inline constexpr int kLockYields = 40;
// Pause-spins a Lock spends before parking when yields are off: ~2-5 us, about what a
// preempted holder's peer on the other CPU needs to finish a short critical section.
inline constexpr int kSpinPauses = 64;
// Rounds a queue steps aside (drop its lock, yield) before waiting on its condition.
inline constexpr int kQueueYieldRounds = 3;
// Rounds a multiprocessing queue steps aside before sleeping on its futex: across processes
// the other side is on the other CPU as often as not, and its wake-up costs the most.
inline constexpr int kProcessQueueRounds = 16;
// The parking lot's bucket lock: held for a few list operations only.
inline constexpr int kWordLockSpins = 100;

// One spin-wait step: tells the CPU we are spinning (x86 pause), so the sibling
// hyper-thread and the memory bus are not hammered.
inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// Yields the CPU if yields are currently cheap, and learns from how long it took. Returns
// false, without yielding, while yields are off.
bool polite_yield();
// Whether yields are on now (a caller that must drop a lock to yield asks first).
bool yields_are_cheap();
// Turns yields off for `how_long` (what a slow yield does; tests use it to take the
// no-yield paths on purpose).
void pause_yields(std::chrono::nanoseconds how_long);

}  // namespace pyconc::detail
