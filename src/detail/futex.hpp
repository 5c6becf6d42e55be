// The futex wrapper: the only place pyconc talks to the kernel about waiting.
// In a process, everything above it waits through the parking lot; the parking lot's own
// bucket lock and its per-thread wake flag use the private form. Across processes, the
// multiprocessing locks wait on words in shared memory with the shared form, which the
// kernel keys by the physical page rather than by this process's address.
#pragma once

#include <atomic>
#include <cstdint>

#include "pyconc/detail/spin.hpp"
#include "pyconc/timeout.hpp"

namespace pyconc::detail {

// Sleeps while word == expected, until woken, a spurious wake-up or the deadline.
// Returns false only when the deadline has passed.
enum class FutexScope { process_private, process_shared };

bool futex_wait(std::atomic<uint32_t>& word, uint32_t expected, const Deadline& deadline,
                FutexScope scope = FutexScope::process_private);
void futex_wake(std::atomic<uint32_t>& word, int count, FutexScope scope = FutexScope::process_private);

}  // namespace pyconc::detail
