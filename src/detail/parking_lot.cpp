#include "detail/parking_lot.hpp"

#include <array>
#include <atomic>
#include <new>

#include "detail/futex.hpp"
#include "pyconc/detail/assert.hpp"
#include "pyconc/os.hpp"

namespace pyconc::detail::parking_lot {
namespace {

// One parked thread; lives on the parker's stack for the duration of park().
struct ParkedThread {
  const void* address = nullptr;
  ParkedThread* next = nullptr;
  ParkedThread* prev = nullptr;
  bool queued = false;                 // guarded by the bucket lock
  std::uintptr_t token = 0;            // written under the bucket lock before `woken`
  std::atomic<uint32_t> woken{0};      // the futex word this thread sleeps on
};

// The bucket lock: a three-state futex mutex (Drepper, "Futexes Are Tricky"). Held only
// for a few list operations, so it spins briefly before sleeping.
class WordLock {
 public:
  void lock() {
    uint32_t c = 0;
    if (state_.compare_exchange_strong(c, 1, std::memory_order_acquire)) return;
    for (int i = 0; i < kWordLockSpins; ++i) {
      cpu_relax();
      c = 0;
      if (state_.load(std::memory_order_relaxed) == 0 &&
          state_.compare_exchange_weak(c, 1, std::memory_order_acquire))
        return;
    }
    if (c != 2) c = state_.exchange(2, std::memory_order_acquire);
    while (c != 0) {
      futex_wait(state_, 2, Deadline::never());
      c = state_.exchange(2, std::memory_order_acquire);
    }
  }
  void unlock() {
    if (state_.exchange(0, std::memory_order_release) == 2) futex_wake(state_, 1);
  }
  bool locked() const { return state_.load(std::memory_order_relaxed) != 0; }

 private:
  std::atomic<uint32_t> state_{0};  // 0 free, 1 locked, 2 locked with sleepers
};

struct alignas(64) Bucket {
  WordLock lock;
  ParkedThread* head = nullptr;
  ParkedThread* tail = nullptr;
  Clock::time_point next_fair_time{};
  uint64_t random_state = 0;

  void append(ParkedThread* t) {
    t->prev = tail;
    t->next = nullptr;
    (tail ? tail->next : head) = t;
    tail = t;
    t->queued = true;
  }
  void remove(ParkedThread* t) {
    (t->prev ? t->prev->next : head) = t->next;
    (t->next ? t->next->prev : tail) = t->prev;
    t->queued = false;
  }
  ParkedThread* first_on(const void* address, ParkedThread* from) const {
    for (ParkedThread* t = from; t; t = t->next)
      if (t->address == address) return t;
    return nullptr;
  }
  // WebKit's rule: be fair once the bucket's randomised fair time (< 1 ms ahead) passes.
  bool time_to_be_fair() {
    const auto now = Clock::now();
    if (now < next_fair_time) return false;
    random_state = random_state * 6364136223846793005ULL + 1442695040888963407ULL;
    next_fair_time = now + std::chrono::nanoseconds((random_state >> 33) % 1000000);
    return true;
  }
};

// A prime-ish power of two is enough: the hash mixes the address first.
constexpr std::size_t kBucketCount = 512;
std::array<Bucket, kBucketCount> g_buckets;

Bucket& bucket_for(const void* address) {
  auto x = reinterpret_cast<std::uintptr_t>(address);
  x ^= x >> 17;
  x *= 0x9E3779B97F4A7C15ULL;
  return g_buckets[(x >> 40) % kBucketCount];
}

void wake(ParkedThread* t) {
  // After the store the parker may return and its stack frame vanish; the futex call
  // only names the address, and a wake on memory reused by another futex waiter is a
  // harmless spurious wake-up there (every futex wait in pyconc re-checks its word).
  t->woken.store(1, std::memory_order_release);
  futex_wake(t->woken, 1);
}

void sleep_until_woken(ParkedThread& self) {
  while (self.woken.load(std::memory_order_acquire) == 0)
    futex_wait(self.woken, 0, Deadline::never());
}

// Leaves the queue early (timeout or abort). False if an unparker took us off it first:
// its wake-up is then in flight and has been waited for, and self.token holds what it
// handed over (perhaps a lock), which the caller must not lose.
bool leave_queue(Bucket& bucket, ParkedThread& self) {
  bucket.lock.lock();
  const bool still_queued = self.queued;
  if (still_queued) bucket.remove(&self);
  bucket.lock.unlock();
  if (!still_queued) sleep_until_woken(self);
  return still_queued;
}

}  // namespace

ParkOutcome park(const void* address, FunctionRef<bool()> validate,
                 FunctionRef<bool()> before_sleep, const Deadline& deadline) {
  Bucket& bucket = bucket_for(address);
  ParkedThread self;
  self.address = address;

  bucket.lock.lock();
  if (!validate()) {
    bucket.lock.unlock();
    return {ParkResult::invalid, 0};
  }
  bucket.append(&self);
  PYCONC_ASSERT(bucket.first_on(address, bucket.head) != nullptr, "parked thread is queued");
  bucket.lock.unlock();

  bool sleep = false;
  try {
    sleep = before_sleep();
  } catch (...) {
    leave_queue(bucket, self);  // never leave our stack node linked behind
    throw;
  }
  if (!sleep) {
    if (leave_queue(bucket, self)) return {ParkResult::invalid, 0};
    return {ParkResult::unparked, self.token};
  }

  while (self.woken.load(std::memory_order_acquire) == 0) {
    if (futex_wait(self.woken, 0, deadline)) continue;
    if (leave_queue(bucket, self)) return {ParkResult::timed_out, 0};
  }
  return {ParkResult::unparked, self.token};
}

UnparkResult unpark_one(const void* address, FunctionRef<std::uintptr_t(UnparkResult)> callback) {
  Bucket& bucket = bucket_for(address);
  UnparkResult result;
  bucket.lock.lock();
  ParkedThread* t = bucket.first_on(address, bucket.head);
  if (t) {
    bucket.remove(t);
    result.did_unpark = true;
    result.may_have_more = bucket.first_on(address, t->next) != nullptr;
    result.be_fair = bucket.time_to_be_fair();
  }
  const std::uintptr_t token = callback(result);
  if (t) t->token = token;
  bucket.lock.unlock();
  if (t) wake(t);
  return result;
}

std::size_t unpark_all(const void* address) {
  Bucket& bucket = bucket_for(address);
  ParkedThread* woken_head = nullptr;
  std::size_t count = 0;
  bucket.lock.lock();
  for (ParkedThread* t = bucket.head; t;) {
    ParkedThread* next = t->next;
    if (t->address == address) {
      bucket.remove(t);
      t->next = woken_head;  // reuse the link for a private list, woken outside the lock
      woken_head = t;
      ++count;
    }
    t = next;
  }
  bucket.lock.unlock();
  // The private list is in reverse order; wake in FIFO order for tidiness.
  ParkedThread* fifo = nullptr;
  while (woken_head) {
    ParkedThread* next = woken_head->next;
    woken_head->next = fifo;
    fifo = woken_head;
    woken_head = next;
  }
  while (fifo) {
    ParkedThread* next = fifo->next;  // read before wake(): fifo may vanish right after
    wake(fifo);
    fifo = next;
  }
  return count;
}

}  // namespace pyconc::detail::parking_lot

namespace pyconc::detail::parking_lot {
namespace {

// In a child process after fork() only the forking thread is left: the queue entries of
// the others (nodes on stacks the child may reuse) and any bucket lock they held are gone.
// Registered by this file's own static initialiser, so the reset happens in every program
// that can park at all, whichever other parts of the library it links.
//
// Only the buckets in use are rewritten: after fork the pages are shared copy-on-write with
// the parent, and rewriting all 512 (32 KiB, 8 pages) made every child fault on each page
// (perf, process_bench: a third of a fork start's page faults were here). The table is
// written once at load (below), so its pages are present in the parent and a child's reads
// fault nothing. The fairness state (next_fair_time, random_state) stays valid in the child.
void reset_after_fork_in_child() {
  for (Bucket& bucket : g_buckets) {
    if (!bucket.head && !bucket.lock.locked()) continue;  // unlocked, its list is whole: empty
    bucket.~Bucket();
    new (&bucket) Bucket();
  }
}

const bool g_fork_reset_registered = [] {
  // Each bucket its own fairness seed; writing them also makes the table's pages present
  // (an untouched .bss page would fault in every forked child that reads it).
  for (std::size_t i = 0; i < kBucketCount; ++i) g_buckets[i].random_state = i + 1;
  pyconc::os::detail::register_at_fork_first(reset_after_fork_in_child);
  return true;
}();

}  // namespace
}  // namespace pyconc::detail::parking_lot
