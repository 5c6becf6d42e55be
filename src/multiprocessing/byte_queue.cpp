#include "pyconc/multiprocessing/byte_queue.hpp"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <new>

#include "detail/futex.hpp"
#include "pyconc/detail/spin.hpp"

namespace pyconc::multiprocessing::detail {

using pyconc::detail::FutexScope;

struct RingHeader {
  std::atomic<std::uint64_t> reader;  // items taken << 32 | read offset
  std::atomic<std::uint64_t> writer;  // items put << 32 | write offset
  std::atomic<std::uint32_t> items_sequence;  // bumped by put: getters wait on it
  std::atomic<std::uint32_t> room_sequence;   // bumped by get: putters wait on it
  std::atomic<std::uint32_t> getters;
  std::atomic<std::uint32_t> putters;
  std::atomic<std::uint64_t> unfinished;
  std::atomic<std::uint32_t> done_sequence;   // bumped when unfinished reaches 0
  std::int64_t maxsize;
  std::uint32_t capacity;
  // The ring itself follows the header in the block.
  char* ring() { return reinterpret_cast<char*>(this + 1); }
  const char* ring() const { return reinterpret_cast<const char*>(this + 1); }
};

namespace {

constexpr std::uint32_t kLengthBytes = 4;

std::uint32_t items(std::uint64_t state) { return static_cast<std::uint32_t>(state >> 32); }
std::uint32_t offset(std::uint64_t state) { return static_cast<std::uint32_t>(state); }
std::uint64_t pack(std::uint32_t count, std::uint32_t at) { return (std::uint64_t{count} << 32) | at; }

std::uint32_t count_of(const RingHeader& h) {
  return items(h.writer.load(std::memory_order_acquire)) - items(h.reader.load(std::memory_order_acquire));
}

std::uint32_t used_bytes(const RingHeader& h) {
  if (count_of(h) == 0) return 0;
  const std::uint32_t r = offset(h.reader.load()), w = offset(h.writer.load());
  return w > r ? w - r : h.capacity - r + w;  // w == r with items in it: full
}

void copy_in(RingHeader& h, std::uint32_t at, const void* from, std::uint32_t n) {
  const std::uint32_t first = std::min(n, h.capacity - at);
  std::memcpy(h.ring() + at, from, first);
  std::memcpy(h.ring(), static_cast<const char*>(from) + first, n - first);
}

void copy_out(const RingHeader& h, std::uint32_t at, void* to, std::uint32_t n) {
  const std::uint32_t first = std::min(n, h.capacity - at);
  std::memcpy(to, h.ring() + at, first);
  std::memcpy(static_cast<char*>(to) + first, h.ring(), n - first);
}

// Before sleeping: the other side is usually running on the other CPU and acts within
// microseconds, while a futex sleep and wake-up costs ~30 us across CPUs (spin.hpp's cost
// model). So step aside a few rounds (yield while yields are cheap, else pause-spin) with
// the lock released, until `ready` says there is something to do.
template <class Hold, class Ready>
void step_aside(Hold& hold, Ready ready) {
  hold.unlock();
  for (int round = 0; round < pyconc::detail::kProcessQueueRounds && !ready(); ++round) {
    if (pyconc::detail::polite_yield()) continue;
    for (int i = 0; i < pyconc::detail::kSpinPauses && !ready(); ++i) pyconc::detail::cpu_relax();
  }
  hold.lock();
}

// Sleeps on `sequence` (read under the lock as `seen`) with the lock released.
template <class Hold>
void sleep_on(Hold& hold, std::atomic<std::uint32_t>& sequence, std::uint32_t seen,
              std::atomic<std::uint32_t>& sleepers, const Deadline& deadline) {
  sleepers.fetch_add(1, std::memory_order_seq_cst);
  hold.unlock();
  pyconc::detail::futex_wait(sequence, seen, deadline, FutexScope::process_shared);
  sleepers.fetch_sub(1, std::memory_order_seq_cst);
  hold.lock();
}

void bump_and_wake(std::atomic<std::uint32_t>& sequence, std::atomic<std::uint32_t>& sleepers, int count) {
  sequence.fetch_add(1, std::memory_order_seq_cst);
  if (sleepers.load(std::memory_order_seq_cst) > 0)
    pyconc::detail::futex_wake(sequence, count, FutexScope::process_shared);
}

}  // namespace

// The queue's lock, taken over silently when its holder died: the ring is consistent
// whatever point that process reached.
class ByteQueue::Hold {
 public:
  explicit Hold(Lock& lock) : lock_(lock) { this->lock(); }
  ~Hold() {
    if (held_) lock_.release();
  }
  void lock() {
    for (;;) {
      try {
        lock_.acquire();
        held_ = true;
        return;
      } catch (const AbandonedLockError&) {
      }
    }
  }
  void unlock() {
    held_ = false;
    lock_.release();
  }

 private:
  Lock& lock_;
  bool held_ = false;
};

namespace {
std::size_t checked_buffer(std::size_t buffer_bytes) {
  if (buffer_bytes < 64 || buffer_bytes > 0x7fffffffu) throw ValueError("buffer_bytes must be between 64 bytes and 2 GiB");
  return buffer_bytes;
}
}  // namespace

ByteQueue::ByteQueue(std::int64_t maxsize, std::size_t buffer_bytes)
    : block_(SharedBlock::create(sizeof(RingHeader) + checked_buffer(buffer_bytes))) {
  header_ = new (block_->data()) RingHeader{};
  header_->maxsize = maxsize;
  header_->capacity = static_cast<std::uint32_t>(buffer_bytes);
}

bool ByteQueue::put(std::string_view message, const Deadline& deadline) {
  RingHeader& h = *header_;
  const std::uint64_t need = kLengthBytes + message.size();
  if (need > h.capacity)
    throw ValueError("an item of " + std::to_string(message.size()) + " bytes does not fit in the queue's buffer of " +
                     std::to_string(h.capacity) + " bytes (QueueOptions::buffer_bytes)");
  Hold hold(lock_);
  auto room = [&] {
    return (h.maxsize <= 0 || count_of(h) < static_cast<std::uint64_t>(h.maxsize)) &&
           h.capacity - used_bytes(h) >= need;
  };
  for (int round = 0; !room(); ++round) {
    if (deadline.expired()) return false;
    if (round == 0) {
      step_aside(hold, room);
    } else {
      sleep_on(hold, h.room_sequence, h.room_sequence.load(), h.putters, deadline);
    }
  }
  const std::uint64_t w = h.writer.load(std::memory_order_relaxed);
  const auto length = static_cast<std::uint32_t>(message.size());
  copy_in(h, offset(w), &length, kLengthBytes);
  copy_in(h, (offset(w) + kLengthBytes) % h.capacity, message.data(), length);
  h.unfinished.fetch_add(1, std::memory_order_relaxed);
  // The one store that makes the item visible.
  h.writer.store(pack(items(w) + 1, static_cast<std::uint32_t>((offset(w) + need) % h.capacity)),
                 std::memory_order_release);
  bump_and_wake(h.items_sequence, h.getters, 1);
  return true;
}

std::optional<std::string> ByteQueue::get(const Deadline& deadline) {
  RingHeader& h = *header_;
  Hold hold(lock_);
  for (int round = 0; count_of(h) == 0; ++round) {
    if (deadline.expired()) return std::nullopt;
    if (round == 0) {
      step_aside(hold, [&] { return count_of(h) > 0; });
    } else {
      sleep_on(hold, h.items_sequence, h.items_sequence.load(), h.getters, deadline);
    }
  }
  const std::uint64_t r = h.reader.load(std::memory_order_relaxed);
  std::uint32_t length = 0;
  copy_out(h, offset(r), &length, kLengthBytes);
  std::string message(length, '\0');
  copy_out(h, (offset(r) + kLengthBytes) % h.capacity, message.data(), length);
  // The one store that takes the item out.
  h.reader.store(pack(items(r) + 1, static_cast<std::uint32_t>((offset(r) + kLengthBytes + length) % h.capacity)),
                 std::memory_order_release);
  bump_and_wake(h.room_sequence, h.putters, 1);
  // Another getter may be asleep while items remain (a woken one that gave up): pass it on.
  if (count_of(h) > 0 && h.getters.load() > 0) bump_and_wake(h.items_sequence, h.getters, 1);
  return message;
}

std::size_t ByteQueue::qsize() const { return count_of(*header_); }
std::int64_t ByteQueue::maxsize() const { return header_->maxsize; }
std::uint64_t ByteQueue::unfinished_tasks() const { return header_->unfinished.load(); }

void ByteQueue::task_done() {
  RingHeader& h = *header_;
  Hold hold(lock_);
  if (h.unfinished.load() == 0) throw ValueError("task_done() called too many times");
  if (h.unfinished.fetch_sub(1) == 1) {
    h.done_sequence.fetch_add(1, std::memory_order_seq_cst);
    pyconc::detail::futex_wake(h.done_sequence, INT32_MAX, FutexScope::process_shared);
  }
}

bool ByteQueue::join(const Deadline& deadline) {
  RingHeader& h = *header_;
  for (;;) {
    const std::uint32_t seen = h.done_sequence.load(std::memory_order_seq_cst);
    if (h.unfinished.load(std::memory_order_seq_cst) == 0) return true;
    if (deadline.expired()) return false;
    pyconc::detail::futex_wait(h.done_sequence, seen, deadline, FutexScope::process_shared);
  }
}

}  // namespace pyconc::multiprocessing::detail
