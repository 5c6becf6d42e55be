#include "pyconc/timeout.hpp"

namespace pyconc {

Deadline Deadline::after(std::chrono::nanoseconds d) {
  const auto now = Clock::now();
  // Saturate instead of wrapping: TIMEOUT_MAX from now is past the clock's range.
  const auto room = Clock::time_point::max() - now;
  if (d >= room) return Deadline(Clock::time_point::max());
  return Deadline(now + d);
}

std::chrono::nanoseconds Deadline::remaining() const {
  const auto left = *at_ - Clock::now();
  return left > Clock::duration::zero() ? std::chrono::duration_cast<std::chrono::nanoseconds>(left)
                                        : std::chrono::nanoseconds::zero();
}

Deadline Timeout::deadline() const {
  if (!value_) return Deadline::never();
  check_overflow();
  if (*value_ <= std::chrono::nanoseconds::zero()) return Deadline::now();
  return Deadline::after(*value_);
}

void Timeout::check_overflow() const {
  if (value_ && *value_ > std::chrono::nanoseconds(TIMEOUT_MAX))
    throw OverflowError("timeout value is too large");
}

}  // namespace pyconc
