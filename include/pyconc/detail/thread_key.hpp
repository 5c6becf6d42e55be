// A per-thread number that is never reused within a process (unlike pthread ids), used
// for lock ownership and thread-local storage keys. Never 0.
#pragma once

#include <atomic>
#include <cstdint>

namespace pyconc::detail {

inline std::uint64_t thread_key() noexcept {
  static std::atomic<std::uint64_t> next{1};
  thread_local const std::uint64_t key = next.fetch_add(1, std::memory_order_relaxed);
  return key;
}

}  // namespace pyconc::detail
