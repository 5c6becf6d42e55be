#include "pyconc/threading/lock.hpp"

#include "detail/futex.hpp"
#include "pyconc/detail/spin.hpp"
#include "detail/parking_lot.hpp"

namespace pyconc::threading {

namespace pl = pyconc::detail::parking_lot;

namespace {
// Token an unlocking thread gives a woken waiter when it hands the lock over directly.
constexpr std::uintptr_t kHandoff = 1;
}  // namespace

Deadline detail::lock_acquire_deadline(bool blocking, const Timeout& timeout) {
  const bool minus_one = !timeout.is_forever() && timeout.duration() == std::chrono::seconds(-1);
  if (!blocking) {
    if (!timeout.is_forever() && !minus_one)
      throw ValueError("can't specify a timeout for a non-blocking call");
    return Deadline::now();
  }
  if (timeout.is_forever() || minus_one) return Deadline::never();
  if (timeout.negative()) throw ValueError("timeout value must be a non-negative number");
  return timeout.deadline();
}

bool Lock::acquire_slow(bool blocking, Timeout timeout) {
  const Deadline deadline = detail::lock_acquire_deadline(blocking, timeout);
  if (try_lock()) return true;
  return lock_contended(deadline);
}

bool Lock::lock_contended(const Deadline& deadline) {
  int spins = 0;
  for (;;) {
    std::uint8_t bits = bits_.load(std::memory_order_relaxed);
    if (!(bits & kLocked)) {
      if (bits_.compare_exchange_weak(bits, bits | kLocked, std::memory_order_acquire,
                                      std::memory_order_relaxed))
        return true;
      continue;
    }
    if (deadline.expired()) return false;
    if (!(bits & kHasParked)) {
      // Before parking, step aside (yields, while they are cheap: the holder is often a
      // thread of ours preempted on this CPU) or spin briefly (see pyconc/detail/spin.hpp).
      if (spins < pyconc::detail::kLockYields && pyconc::detail::polite_yield()) {
        ++spins;
        continue;
      }
      if (spins < pyconc::detail::kLockYields + pyconc::detail::kSpinPauses) {
        ++spins;
        pyconc::detail::cpu_relax();
        continue;
      }
      if (!bits_.compare_exchange_weak(bits, bits | kHasParked, std::memory_order_relaxed))
        continue;
    }
    const auto outcome = pl::park(
        this,
        [this] { return bits_.load(std::memory_order_relaxed) == (kLocked | kHasParked); },
        deadline);
    if (outcome.unparked() && outcome.token == kHandoff) return true;
    if (outcome.result == pl::ParkResult::timed_out) return false;
  }
}

void Lock::release_slow() {
  std::uint8_t bits = bits_.load(std::memory_order_relaxed);
  for (;;) {
    if (!(bits & kLocked)) throw RuntimeError("release unlocked lock");
    if (!(bits & kHasParked)) {
      if (bits_.compare_exchange_weak(bits, 0, std::memory_order_release,
                                      std::memory_order_relaxed))
        return;
      continue;
    }
    break;
  }
  pl::unpark_one(this, [this](pl::UnparkResult r) -> std::uintptr_t {
    const std::uint8_t parked = r.may_have_more ? kHasParked : 0;
    if (r.did_unpark && r.be_fair) {
      bits_.store(kLocked | parked, std::memory_order_relaxed);  // stays locked: handed over
      return kHandoff;
    }
    bits_.store(parked, std::memory_order_release);
    return 0;
  });
}

}  // namespace pyconc::threading
