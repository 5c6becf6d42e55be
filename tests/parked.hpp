// Whether a thread is asleep in futex(2): the kernel's word that it has parked, read from
// /proc/self/task/TID/syscall instead of guessed with a sleep. Used by tests that must act
// only once another thread is blocked (a death test, a fork that must not catch a thread
// inside the allocator).
#pragma once

#include <chrono>
#include <cstdint>
#include <fstream>
#include <string>
#include <thread>

#include "pyconc/detail/sanitizers.hpp"

namespace pyconc::testing {

inline bool parked_in_futex(std::uint64_t native_id) {
  std::ifstream file("/proc/self/task/" + std::to_string(native_id) + "/syscall");
  long number = -1;
  file >> number;
#if defined(__x86_64__)
  return number == 202;
#elif defined(__aarch64__)
  return number == 98;
#else
  return number >= 0;
#endif
}

inline void wait_until_parked(std::uint64_t native_id) {
  while (!parked_in_futex(native_id)) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

// Whether this build's allocator is a sanitizer's.
// Neither the ASan nor the TSan runtime of GCC 12 / LLVM 14 takes its allocator's locks
// around fork(): a child forked while a parent thread is inside malloc hangs in its first
// malloc. Tests that fork while other threads allocate cannot run under them.
inline constexpr bool kSanitizerAllocator =
    pyconc::detail::kAddressSanitizer || pyconc::detail::kThreadSanitizer;

}  // namespace pyconc::testing
