#include "detail/futex.hpp"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>

namespace pyconc::detail {

namespace {
int flags(FutexScope scope) { return scope == FutexScope::process_private ? FUTEX_PRIVATE_FLAG : 0; }
}  // namespace

bool futex_wait(std::atomic<uint32_t>& word, uint32_t expected, const Deadline& deadline, FutexScope scope) {
  timespec abs{};
  timespec* abs_ptr = nullptr;
  if (!deadline.is_never()) {
    if (deadline.expired()) return false;
    // FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC time: the steady clock on Linux.
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                        deadline.time_point().time_since_epoch())
                        .count();
    abs.tv_sec = static_cast<time_t>(ns / 1000000000);
    abs.tv_nsec = static_cast<long>(ns % 1000000000);
    abs_ptr = &abs;
  }
  const long rc = syscall(SYS_futex, reinterpret_cast<uint32_t*>(&word),
                          FUTEX_WAIT_BITSET | flags(scope), expected, abs_ptr, nullptr,
                          FUTEX_BITSET_MATCH_ANY);
  if (rc == -1 && errno == ETIMEDOUT) return false;
  return true;  // woken, value changed (EAGAIN) or interrupted (EINTR): caller re-checks
}

void futex_wake(std::atomic<uint32_t>& word, int count, FutexScope scope) {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(&word), FUTEX_WAKE | flags(scope), count,
          nullptr, nullptr, 0);
}

}  // namespace pyconc::detail
