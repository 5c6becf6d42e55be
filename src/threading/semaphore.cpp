#include "pyconc/threading/semaphore.hpp"

#include "pyconc/detail/parking_lot.hpp"

namespace pyconc::threading {

namespace pl = pyconc::detail::parking_lot;

Semaphore::Semaphore(std::int64_t value) : value_(value) {
  if (value < 0) throw ValueError("semaphore initial value must be >= 0");
}

bool Semaphore::try_decrement() {
  std::int64_t v = value_.load(std::memory_order_relaxed);
  while (v > 0) {
    if (value_.compare_exchange_weak(v, v - 1, std::memory_order_acquire,
                                     std::memory_order_relaxed))
      return true;
  }
  return false;
}

bool Semaphore::acquire(bool blocking, Timeout timeout) {
  if (!blocking && !timeout.is_forever())
    throw ValueError("can't specify timeout for non-blocking acquire");
  if (try_decrement()) return true;
  if (!blocking || timeout.is_zero_or_negative()) return false;
  const Deadline deadline = timeout.deadline();
  for (;;) {
    // Dekker with release(): we count ourselves, then look at the value; it adds to the
    // value, then looks at the count. Sequential consistency makes one of us see the other.
    waiters_.fetch_add(1, std::memory_order_seq_cst);
    const auto outcome = pl::park(
        this, [this] { return value_.load(std::memory_order_seq_cst) <= 0; }, deadline);
    waiters_.fetch_sub(1, std::memory_order_relaxed);
    if (try_decrement()) return true;
    if (outcome.result == pl::ParkResult::timed_out) return false;
  }
}

void Semaphore::release(std::int64_t n) {
  if (n < 1) throw ValueError("n must be one or more");
  value_.fetch_add(n, std::memory_order_seq_cst);
  wake_waiters(n);
}

void Semaphore::wake_waiters(std::int64_t n) {
  for (; n > 0 && waiters_.load(std::memory_order_seq_cst) > 0; --n)
    if (!pl::unpark_one(this).did_unpark) break;
}

void BoundedSemaphore::release(std::int64_t n) {
  if (n < 1) throw ValueError("n must be one or more");
  std::int64_t v = value_.load(std::memory_order_relaxed);
  do {
    if (v + n > initial_) throw ValueError("Semaphore released too many times");
  } while (!value_.compare_exchange_weak(v, v + n, std::memory_order_seq_cst,
                                         std::memory_order_relaxed));
  wake_waiters(n);
}

}  // namespace pyconc::threading
