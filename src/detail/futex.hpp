// The futex wrapper: the only place pyconc talks to the kernel about waiting.
// Everything above it waits through the parking lot; the parking lot's own bucket lock
// and its per-thread wake flag are the two users of these functions.
#pragma once

#include <atomic>
#include <cstdint>

#include "pyconc/detail/spin.hpp"
#include "pyconc/timeout.hpp"

namespace pyconc::detail {

// Sleeps while word == expected, until woken, a spurious wake-up or the deadline.
// Returns false only when the deadline has passed.
bool futex_wait(std::atomic<uint32_t>& word, uint32_t expected, const Deadline& deadline);
void futex_wake(std::atomic<uint32_t>& word, int count);

}  // namespace pyconc::detail
