#include "pyconc/threading/semaphore.hpp"

#include "detail/parking_lot.hpp"

namespace pyconc::threading {

namespace pl = pyconc::detail::parking_lot;

Semaphore::Semaphore(std::int64_t value) {
  if (value < 0) throw ValueError("semaphore initial value must be >= 0");
  if (value > VALUE_MAX) throw OverflowError("semaphore initial value is too large");
  word_.store(static_cast<std::uint64_t>(value) << kWaiterBits, std::memory_order_relaxed);
}

bool Semaphore::try_decrement() {
  std::uint64_t w = word_.load(std::memory_order_relaxed);
  while (value_of(w) > 0) {
    if (word_.compare_exchange_weak(w, w - kOneValue, std::memory_order_acquire,
                                    std::memory_order_relaxed))
      return true;
  }
  return false;
}

bool Semaphore::acquire(bool blocking, Timeout timeout) {
  if (!blocking && !timeout.is_forever())
    throw ValueError("can't specify timeout for non-blocking acquire");
  timeout.check_overflow();  // the rule holds whether or not we would block
  if (try_decrement()) return true;
  if (!blocking || timeout.is_zero_or_negative()) return false;
  const Deadline deadline = timeout.deadline();
  for (;;) {
    // Counted as a waiter in the same word release() adds to: one of us sees the other.
    word_.fetch_add(1, std::memory_order_seq_cst);
    const auto outcome = pl::park(
        this, [this] { return value_of(word_.load(std::memory_order_seq_cst)) <= 0; }, deadline);
    word_.fetch_sub(1, std::memory_order_relaxed);
    if (try_decrement()) return true;
    if (outcome.result == pl::ParkResult::timed_out) return false;
  }
}

void Semaphore::release(std::int64_t n) { add(n, VALUE_MAX, false); }

void Semaphore::add(std::int64_t n, std::int64_t limit, bool bounded) {
  if (n < 1) throw ValueError("n must be one or more");
  std::uint64_t w = word_.load(std::memory_order_relaxed);
  do {
    if (n > limit - value_of(w)) {  // no signed overflow: limit >= value >= 0
      if (bounded) throw ValueError("Semaphore released too many times");
      throw OverflowError("semaphore value would exceed VALUE_MAX");
    }
  } while (!word_.compare_exchange_weak(w, w + static_cast<std::uint64_t>(n) * kOneValue,
                                        std::memory_order_seq_cst, std::memory_order_relaxed));
  // From here on only the address is used: a woken waiter may destroy the semaphore.
  std::uint64_t waiters = w & kWaiterMask;
  for (std::int64_t i = 0; i < n && waiters > 0; ++i, --waiters)
    if (!pl::unpark_one(this).did_unpark) break;
}

void BoundedSemaphore::release(std::int64_t n) { add(n, initial_, true); }

}  // namespace pyconc::threading
