#include "pyconc/threading/event.hpp"

#include "detail/parking_lot.hpp"

namespace pyconc::threading {

namespace pl = pyconc::detail::parking_lot;

void Event::set() {
  const std::uint32_t before = word_.fetch_or(kSet, std::memory_order_seq_cst);
  // From here on only the address is used: unpark_all never touches the Event itself.
  if (before >= kOneWaiter) pl::unpark_all(this);
}

bool Event::wait(Timeout timeout) {
  timeout.check_overflow();  // the rule holds whether or not we would block
  if (is_set()) return true;
  if (timeout.is_zero_or_negative()) return false;
  return wait_until(timeout.deadline());
}

bool Event::wait_until(const Deadline& deadline) {
  if (is_set()) return true;
  if (deadline.expired()) return false;
  word_.fetch_add(kOneWaiter, std::memory_order_seq_cst);
  const auto outcome = pl::park(
      this, [this] { return (word_.load(std::memory_order_seq_cst) & kSet) == 0; }, deadline);
  word_.fetch_sub(kOneWaiter, std::memory_order_relaxed);
  if (outcome.result == pl::ParkResult::timed_out) return is_set();
  return true;  // woken by set(), or it was set before we could sleep
}

}  // namespace pyconc::threading
