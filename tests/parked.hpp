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

// Whether this build runs under AddressSanitizer (GCC defines the macro, Clang the feature).
#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kAddressSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool kAddressSanitizer = true;
#else
inline constexpr bool kAddressSanitizer = false;
#endif
#else
inline constexpr bool kAddressSanitizer = false;
#endif

}  // namespace pyconc::testing
