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

// Whether this build's allocator is a sanitizer's (GCC defines macros, Clang has features).
// Neither the ASan nor the TSan runtime of GCC 12 / LLVM 14 takes its allocator's locks
// around fork(): a child forked while a parent thread is inside malloc hangs in its first
// malloc. Tests that fork while other threads allocate cannot run under them.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr bool kSanitizerAllocator = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
inline constexpr bool kSanitizerAllocator = true;
#else
inline constexpr bool kSanitizerAllocator = false;
#endif
#else
inline constexpr bool kSanitizerAllocator = false;
#endif

}  // namespace pyconc::testing
