#include "pyconc/threading/event.hpp"

#include "pyconc/detail/parking_lot.hpp"

namespace pyconc::threading {

namespace pl = pyconc::detail::parking_lot;

void Event::set() {
  flag_.store(1, std::memory_order_seq_cst);
  if (waiters_.load(std::memory_order_seq_cst) > 0) pl::unpark_all(this);
}

bool Event::wait(Timeout timeout) {
  if (is_set()) return true;
  if (timeout.is_zero_or_negative()) return false;
  waiters_.fetch_add(1, std::memory_order_seq_cst);
  const auto outcome = pl::park(
      this, [this] { return flag_.load(std::memory_order_seq_cst) == 0; }, timeout.deadline());
  waiters_.fetch_sub(1, std::memory_order_relaxed);
  if (outcome.result == pl::ParkResult::timed_out) return is_set();
  return true;  // woken by set(), or it was set before we could sleep
}

}  // namespace pyconc::threading
