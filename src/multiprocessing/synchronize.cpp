// Process-shared locks: a count in shared memory, waited on with the shared futex form.
#include "pyconc/multiprocessing/synchronize.hpp"

#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <new>
#include <string>

#include "detail/built_at_load.hpp"
#include "detail/futex.hpp"
#include "pyconc/os.hpp"
#include "pyconc/threading/barrier_cycle.hpp"
#include "pyconc/detail/spin.hpp"

namespace pyconc::multiprocessing {

namespace detail {

// Lives in shared memory: lock-free atomics only (address-free across processes).
struct SemLockWord {
  std::atomic<std::uint32_t> value;  // a count, or a mutex's state and holder (see try_take)
  std::atomic<std::uint32_t> sleepers;
  std::atomic<std::uint32_t> owner_tid;  // RLock: the thread that holds it
  std::atomic<std::uint32_t> count;      // RLock: recursion depth
  std::uint32_t max_value;
  std::uint32_t kind;
};

struct EventWord {
  std::atomic<std::uint32_t> flag;
  std::atomic<std::uint32_t> generation;  // bumped by set(): a waiter woken by it returns true
  std::atomic<std::uint32_t> sleepers;
};

// Python's Condition keeps a FIFO of per-waiter locks; this is that FIFO in shared memory:
// one slot per waiter, with the ticket that orders it. Slots are claimed, notified and freed
// under the condition's lock; a sleeper only reads its own slot.
inline constexpr std::uint32_t kConditionSlots = 1024;
struct ConditionWord {
  std::atomic<std::uint32_t> sequence;  // bumped by notify: the futex word all sleepers watch
  std::uint64_t next_ticket;
  std::atomic<std::uint32_t> state[kConditionSlots];  // 0 free, 1 waiting, 2 notified
  std::uint64_t ticket[kConditionSlots];
};

static_assert(std::atomic<std::uint64_t>::is_always_lock_free);
static_assert(std::atomic<std::uint32_t>::is_always_lock_free && std::atomic<std::int32_t>::is_always_lock_free);

}  // namespace detail

namespace {

using pyconc::detail::FutexScope;
constexpr auto kAbandonCheck = std::chrono::milliseconds(100);
constexpr std::uint32_t kSemValueMax = 0x7fffffff;  // SEM_VALUE_MAX

// getpid() and gettid() are system calls (glibc caches neither): on the lock's hot path they
// cost more than the lock. Both are cached, and the cache is renewed in a forked child.
struct PidCache {
  std::atomic<pid_t> pid{::getpid()};
  PidCache() {
    pyconc::os::register_at_fork({}, {}, [this] { pid.store(::getpid()); });
  }
};
PidCache& pid_cache() {
  static PidCache* cache = new PidCache;  // never destroyed: locks may be used during exit
  return *cache;
}
PYCONC_BUILD_AT_LOAD(pid_cache());

pid_t current_pid() { return pid_cache().pid.load(std::memory_order_relaxed); }

std::uint32_t this_thread_id() {
  thread_local pid_t cached_in = 0;  // the process the cached id belongs to
  thread_local std::uint32_t tid = 0;
  if (cached_in != current_pid()) {
    tid = static_cast<std::uint32_t>(::syscall(SYS_gettid));
    cached_in = current_pid();
  }
  return tid;
}

// A process that has ended, or a zombie nobody has reaped yet, no longer holds anything.
bool process_is_dead(pid_t pid) {
  if (::kill(pid, 0) < 0 && errno == ESRCH) return true;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return true;
  const auto close = line.rfind(')');
  return close != std::string::npos && close + 2 < line.size() &&
         (line[close + 2] == 'Z' || line[close + 2] == 'X');
}

Deadline acquire_deadline(bool blocking, const Timeout& timeout) {
  if (!blocking) return Deadline::now();
  if (timeout.is_forever()) return Deadline::never();
  if (timeout.negative()) return Deadline::now();
  return timeout.deadline();
}

// A semaphore's word is its count. A mutex-like lock's word (Lock, RLock, BoundedSemaphore(1))
// is 1 when free and kHeld | the holder's pid when held: taking the lock and naming its
// holder are one store, so a holder killed at any instant is always named (a separate
// owner field, written after the take, left an unowned held lock behind: nobody could ever
// tell that its holder was gone).
constexpr std::uint32_t kHeld = 0x80000000u;
constexpr std::uint32_t kFreeMutex = 1;

bool is_mutex_like(const detail::SemLockWord& w) { return w.max_value == 1; }
pid_t holder_of(std::uint32_t word) { return (word & kHeld) ? static_cast<pid_t>(word & ~kHeld) : 0; }

bool try_take(detail::SemLockWord& w) {
  if (is_mutex_like(w)) {
    std::uint32_t free = kFreeMutex;
    return w.value.compare_exchange_strong(free, kHeld | static_cast<std::uint32_t>(current_pid()),
                                           std::memory_order_acquire, std::memory_order_relaxed);
  }
  std::uint32_t v = w.value.load(std::memory_order_relaxed);
  while (v > 0)
    if (w.value.compare_exchange_weak(v, v - 1, std::memory_order_acquire, std::memory_order_relaxed)) return true;
  return false;
}

void wake_one(detail::SemLockWord& w) {
  if (w.sleepers.load(std::memory_order_seq_cst) > 0) pyconc::detail::futex_wake(w.value, 1, FutexScope::process_shared);
}

void give(detail::SemLockWord& w) {
  if (is_mutex_like(w)) {
    w.value.store(kFreeMutex, std::memory_order_seq_cst);
  } else {
    w.value.fetch_add(1, std::memory_order_seq_cst);
  }
  wake_one(w);
}

// The holder of a mutex-like lock died: the first waiter to notice frees the lock and
// reports it; the others keep waiting and get the lock as usual.
void check_abandoned(detail::SemLockWord& w) {
  std::uint32_t word = w.value.load(std::memory_order_acquire);
  const pid_t owner = holder_of(word);
  if (owner == 0 || owner == current_pid() || !process_is_dead(owner)) return;
  w.owner_tid.store(0);
  w.count.store(0);
  if (!w.value.compare_exchange_strong(word, kFreeMutex)) return;
  wake_one(w);
  throw AbandonedLockError("the process (pid " + std::to_string(owner) +
                           ") that held this lock died without releasing it; the lock is free again");
}

}  // namespace

SemLock::SemLock(Kind kind, std::uint32_t value, std::uint32_t max_value)
    : block_(detail::SharedBlock::create(sizeof(detail::SemLockWord) + 64)) {
  word_ = new (block_->data()) detail::SemLockWord{};
  word_->value.store(max_value == 1 ? (value ? kFreeMutex : kHeld | static_cast<std::uint32_t>(current_pid())) : value);
  word_->max_value = max_value;
  word_->kind = static_cast<std::uint32_t>(kind);
}

SemLock::SemLock(std::shared_ptr<detail::SharedBlock> block, std::size_t offset) : block_(std::move(block)) {
  word_ = new (static_cast<char*>(block_->data()) + offset) detail::SemLockWord{};
  word_->value.store(1);
  word_->max_value = 1;
  word_->kind = static_cast<std::uint32_t>(Kind::recursive_mutex);
}

std::uint32_t SemLock::value() const {
  const std::uint32_t word = word_->value.load();
  return is_mutex_like(*word_) ? (word == kFreeMutex ? 1 : 0) : word;
}

bool SemLock::acquire(bool blocking, Timeout timeout) {
  auto& w = *word_;
  const bool recursive = w.kind == static_cast<std::uint32_t>(Kind::recursive_mutex);
  if (recursive && holder_of(w.value.load()) == current_pid() && w.owner_tid.load() == this_thread_id()) {
    w.count.fetch_add(1);
    return true;
  }
  const Deadline deadline = acquire_deadline(blocking, timeout);
  for (int spins = 0;; ++spins) {
    if (try_take(w)) break;
    if (deadline.expired()) return false;
    // Before sleeping, as threading::Lock does: step aside or pause-spin (spin.hpp).
    if (spins < pyconc::detail::kLockYields && pyconc::detail::polite_yield()) continue;
    if (spins < pyconc::detail::kLockYields + pyconc::detail::kSpinPauses) {
      pyconc::detail::cpu_relax();
      continue;
    }
    w.sleepers.fetch_add(1, std::memory_order_seq_cst);
    const std::uint32_t seen = w.value.load(std::memory_order_seq_cst);
    if (is_mutex_like(w) ? seen != kFreeMutex : seen == 0)
      pyconc::detail::futex_wait(w.value, seen, Deadline::earlier(deadline, Deadline::after(kAbandonCheck)),
                                 FutexScope::process_shared);
    w.sleepers.fetch_sub(1, std::memory_order_seq_cst);
    if (is_mutex_like(w)) check_abandoned(w);
  }
  if (recursive) {
    w.owner_tid.store(this_thread_id());
    w.count.store(1);
  }
  return true;
}

void SemLock::release() {
  auto& w = *word_;
  if (w.kind == static_cast<std::uint32_t>(Kind::recursive_mutex)) {
    if (holder_of(w.value.load()) != current_pid() || w.owner_tid.load() != this_thread_id() || w.count.load() == 0)
      throw AssertionError("attempt to release recursive lock not owned by thread");
    if (w.count.fetch_sub(1) > 1) return;
    w.owner_tid.store(0);
  } else if (is_mutex_like(w) ? w.value.load() == kFreeMutex : w.value.load() >= w.max_value) {
    throw ValueError("semaphore or lock released too many times");
  }
  give(w);
}

Lock::Lock() : SemLock(Kind::semaphore, 1, 1) {}
RLock::RLock() : SemLock(Kind::recursive_mutex, 1, 1) {}
Semaphore::Semaphore(std::uint32_t value) : SemLock(Kind::semaphore, value, kSemValueMax) {
  if (value > kSemValueMax) throw ValueError("semaphore initial value too large");
}

std::uint32_t SemLock::release_save() {
  auto& w = *word_;
  if (w.kind != static_cast<std::uint32_t>(Kind::recursive_mutex)) {
    release();
    return 1;
  }
  const std::uint32_t depth = w.count.load();
  w.count.store(1);
  release();
  return depth;
}

void SemLock::acquire_restore(std::uint32_t saved) {
  acquire();
  if (word_->kind == static_cast<std::uint32_t>(Kind::recursive_mutex)) word_->count.store(saved);
}

bool SemLock::is_owned_by_caller() const {
  auto& w = *word_;
  if (w.kind == static_cast<std::uint32_t>(Kind::recursive_mutex))
    return holder_of(w.value.load()) == current_pid() && w.owner_tid.load() == this_thread_id() && w.count.load() > 0;
  return value() == 0;  // a plain Lock has no owner: "held by someone"
}

namespace {
constexpr std::uint32_t kFree = 0, kWaiting = 1, kNotified = 2;
}  // namespace

Condition::Condition() : Condition(RLock()) {}

Condition::Condition(SemLock lock)
    : lock_(std::move(lock)), block_(detail::SharedBlock::create(sizeof(detail::ConditionWord) + 64)) {
  word_ = new (block_->data()) detail::ConditionWord{};
}

void Condition::check_owned(const char* what) const {
  if (!lock_.is_owned_by_caller()) throw RuntimeError(std::string("cannot ") + what + " on un-acquired lock");
}

bool Condition::wait(Timeout timeout) { return wait_until(acquire_deadline(true, timeout)); }

bool Condition::wait_until(const Deadline& deadline) {
  check_owned("wait");
  auto& w = *word_;
  std::uint32_t slot = 0;
  while (slot < detail::kConditionSlots && w.state[slot].load() != kFree) ++slot;
  if (slot == detail::kConditionSlots) throw RuntimeError("too many waiters on one multiprocessing Condition");
  w.ticket[slot] = w.next_ticket++;
  w.state[slot].store(kWaiting);
  const std::uint32_t saved = lock_.release_save();
  for (;;) {
    const std::uint32_t sequence = w.sequence.load();
    if (w.state[slot].load() == kNotified || deadline.expired()) break;
    pyconc::detail::futex_wait(w.sequence, sequence, deadline, FutexScope::process_shared);
  }
  lock_.acquire_restore(saved);
  // With the lock held again: a notify that chose this slot after the timeout still counts.
  const bool notified = w.state[slot].load() == kNotified;
  w.state[slot].store(kFree);
  return notified;
}

// Wakes the n oldest waiters (FIFO, as Python's deque of waiters).
void Condition::notify(std::uint32_t n) {
  check_owned("notify");
  auto& w = *word_;
  std::uint32_t woken = 0;
  for (; woken < n; ++woken) {
    std::uint32_t oldest = detail::kConditionSlots;
    for (std::uint32_t i = 0; i < detail::kConditionSlots; ++i)
      if (w.state[i].load() == kWaiting && (oldest == detail::kConditionSlots || w.ticket[i] < w.ticket[oldest]))
        oldest = i;
    if (oldest == detail::kConditionSlots) break;  // extra notifies do nothing
    w.state[oldest].store(kNotified);
  }
  if (woken == 0) return;
  w.sequence.fetch_add(1);
  // Every sleeper re-checks its own slot.
  pyconc::detail::futex_wake(w.sequence, INT32_MAX, FutexScope::process_shared);
}

void Condition::notify_all() { notify(0xffffffffu); }

struct Barrier::Shared {
  threading::detail::BarrierState state;
  std::int64_t count;
  std::int64_t parties;
};

Barrier::Barrier(std::int64_t parties, void (*action)(), Timeout timeout)
    : block_(detail::SharedBlock::create(sizeof(Shared) + 64)) {
  if (parties < 1) throw ValueError("parties must be >= 1");
  new (block_->data()) Shared{threading::detail::BarrierState::filling, 0, parties};
  if (action) action_ = detail::locate_code(reinterpret_cast<const void*>(action));
  if (!timeout.is_forever()) {
    has_timeout_ = true;
    timeout_ns_ = timeout.duration().count();
  }
}

Barrier::Shared& Barrier::shared() const {
  if (!block_) throw ValueError("an empty Barrier handle");
  return *static_cast<Shared*>(block_->data());
}

Timeout Barrier::default_timeout() const {
  if (!has_timeout_) return forever;
  return std::chrono::nanoseconds(timeout_ns_);
}

std::int64_t Barrier::parties() const { return shared().parties; }

threading::detail::BarrierCycle<Condition, std::int64_t> Barrier::cycle() {
  return {cond_, shared().state, shared().count};
}

std::int64_t Barrier::wait() { return wait(default_timeout()); }

std::int64_t Barrier::wait(Timeout timeout) {
  const Deadline deadline = timeout.deadline();
  std::function<void()> run_action;
  if (action_) run_action = reinterpret_cast<void (*)()>(const_cast<void*>(detail::resolve_code(*action_)));
  std::scoped_lock hold(cond_);
  return cycle().wait(shared().parties, run_action, deadline);
}

void Barrier::reset() {
  std::scoped_lock hold(cond_);
  cycle().reset();
}

void Barrier::abort() {
  std::scoped_lock hold(cond_);
  cycle().abort();
}

std::int64_t Barrier::n_waiting() {
  std::scoped_lock hold(cond_);
  return cycle().n_waiting();
}

bool Barrier::broken() {
  std::scoped_lock hold(cond_);
  return cycle().broken();
}

Event::Event() : block_(detail::SharedBlock::create(sizeof(detail::EventWord) + 64)) {
  word_ = new (block_->data()) detail::EventWord{};
}

bool Event::is_set() const { return word_->flag.load(std::memory_order_acquire) != 0; }

void Event::set() {
  word_->flag.store(1, std::memory_order_release);
  word_->generation.fetch_add(1, std::memory_order_seq_cst);
  if (word_->sleepers.load(std::memory_order_seq_cst) > 0)
    pyconc::detail::futex_wake(word_->generation, INT32_MAX, FutexScope::process_shared);
}

void Event::clear() { word_->flag.store(0, std::memory_order_release); }

bool Event::wait(Timeout timeout) {
  if (is_set()) return true;
  const Deadline deadline = acquire_deadline(true, timeout);
  const std::uint32_t generation = word_->generation.load(std::memory_order_seq_cst);
  if (is_set()) return true;
  word_->sleepers.fetch_add(1, std::memory_order_seq_cst);
  while (word_->generation.load(std::memory_order_seq_cst) == generation && !deadline.expired())
    pyconc::detail::futex_wait(word_->generation, generation, deadline, FutexScope::process_shared);
  word_->sleepers.fetch_sub(1, std::memory_order_seq_cst);
  return word_->generation.load() != generation || is_set();
}

}  // namespace pyconc::multiprocessing
