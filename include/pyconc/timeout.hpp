// pyconc/timeout.hpp — Python's `timeout=` argument and the one deadline type.
//
// A Timeout is either `pyconc::forever` (Python's None) or a duration of any
// std::chrono type, including fractional seconds. Blocking calls turn it once into an
// absolute steady-clock Deadline, so loops that wake up and wait again never stretch the
// total wait. Past TIMEOUT_MAX (about 292 years) every blocking call throws OverflowError,
// as CPython's do; pyconc::forever is the way to say "no timeout". Each call decides what a negative timeout means, as Python does per call
// (Lock.acquire rejects it, Condition.wait treats it as 0, ...): see negative().
//
//   using namespace std::chrono_literals;
//   lock.acquire(true, 500ms);                       // Python: lock.acquire(timeout=0.5)
//   q.get(true, std::chrono::duration<double>(0.1)); // q.get(timeout=0.1)
//   ev.wait(pyconc::forever);                        // ev.wait()
#pragma once

#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>

#include "pyconc/errors.hpp"

namespace pyconc {

using Clock = std::chrono::steady_clock;

struct Forever {
  explicit constexpr Forever() = default;
};
inline constexpr Forever forever{};

// Python's threading.TIMEOUT_MAX on Linux, in seconds.
inline constexpr std::chrono::seconds TIMEOUT_MAX{9223372036LL};

// An absolute point on the monotonic clock, or never.
class Deadline {
 public:
  constexpr Deadline() = default;  // never
  static constexpr Deadline never() { return Deadline(); }
  static Deadline after(std::chrono::nanoseconds d);
  static Deadline now() { return Deadline(Clock::now()); }

  bool is_never() const { return !at_.has_value(); }
  Clock::time_point time_point() const { return *at_; }
  bool expired() const { return at_ && Clock::now() >= *at_; }
  // Time left, clamped at zero; only meaningful when !is_never().
  std::chrono::nanoseconds remaining() const;
  // The sooner of two deadlines (a wait bounded by its caller's deadline and a re-check).
  static Deadline earlier(const Deadline& a, const Deadline& b) {
    if (a.is_never()) return b;
    if (b.is_never()) return a;
    return a.time_point() < b.time_point() ? a : b;
  }

 private:
  explicit Deadline(Clock::time_point at) : at_(at) {}
  std::optional<Clock::time_point> at_;
};

class Timeout {
 public:
  constexpr Timeout(Forever) {}  // NOLINT: implicit on purpose, like Python's None
  template <class Rep, class Period>
  Timeout(std::chrono::duration<Rep, Period> d)  // NOLINT: implicit on purpose
      : value_(to_nanoseconds(d)) {}

  bool is_forever() const { return !value_.has_value(); }
  bool negative() const { return value_ && *value_ < std::chrono::nanoseconds::zero(); }
  bool is_zero_or_negative() const { return value_ && *value_ <= std::chrono::nanoseconds::zero(); }
  std::chrono::nanoseconds duration() const { return *value_; }
  // Negative durations give an already-expired deadline. A duration above TIMEOUT_MAX
  // (infinity included) throws OverflowError: CPython's rule for Lock.acquire, which every
  // other blocking call of CPython inherits by waiting on a lock, and so does every
  // blocking call of pyconc, since each turns its timeout into a deadline here.
  Deadline deadline() const;
  // The same check alone, for calls that may return before computing a deadline.
  void check_overflow() const;

 private:
  template <class Rep, class Period>
  static std::chrono::nanoseconds to_nanoseconds(std::chrono::duration<Rep, Period> d) {
    // Convert in long double so 1e100 s or 300 years are detected, not wrapped.
    using LongSeconds = std::chrono::duration<long double>;
    const long double s = std::chrono::duration_cast<LongSeconds>(d).count();
    if (s != s) throw ValueError("Invalid value NaN (not a number)");
    // Clamp: anything this far out is past TIMEOUT_MAX and check_overflow() reports it.
    constexpr long double max_s = 9223372036.5L;  // just above TIMEOUT_MAX, below ns::max()
    if (s > max_s) return std::chrono::nanoseconds::max();
    if (s < -max_s) return std::chrono::nanoseconds::min();
    return std::chrono::duration_cast<std::chrono::nanoseconds>(d);
  }
  std::optional<std::chrono::nanoseconds> value_;
};

}  // namespace pyconc
