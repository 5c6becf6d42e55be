#include "pyconc/multiprocessing/byte_queue.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <new>

#include "detail/futex.hpp"
#include "pyconc/detail/spin.hpp"

namespace pyconc::multiprocessing::detail {

using pyconc::detail::FutexScope;

// Progress words pack a count and an offset: items taken (or put) << 32 | byte offset.
// Counts are compared modulo 2^32, so only the number of items in the ring must fit.
//
// The header is four cache lines, each written by one kind of caller, so that a putter and
// a getter running at once only read each other's progress word.
struct alignas(64) PutSide {
  std::atomic<std::uint64_t> writer{0};       // published by the one store that adds an item
  std::atomic<std::uint64_t> reader_seen{0};  // the last reader word a putter read (a hint)
  std::atomic<std::uint32_t> items_sequence{0};  // bumped for sleeping getters
};
struct alignas(64) GetSide {
  std::atomic<std::uint64_t> reader{0};       // published by the one store that takes an item
  std::atomic<std::uint64_t> writer_seen{0};  // the last writer word a getter read (a hint)
  std::atomic<std::uint32_t> room_sequence{0};   // bumped for sleeping putters
};
// Written only on the way to and from a sleep: read on every call, it stays in both caches.
struct alignas(64) Sleepers {
  std::atomic<std::uint32_t> getters{0};
  std::atomic<std::uint32_t> putters{0};
};
struct alignas(64) Tasks {
  std::atomic<std::uint64_t> unfinished{0};
  std::atomic<std::uint32_t> done_sequence{0};  // bumped when unfinished reaches 0
};

struct alignas(64) RingHeader {
  PutSide put;
  GetSide get;
  Sleepers sleepers;
  Tasks tasks;
  std::int64_t maxsize = 0;
  std::uint32_t capacity = 0;
  // The ring itself follows the header in the block.
  char* ring() { return reinterpret_cast<char*>(this + 1); }
  const char* ring() const { return reinterpret_cast<const char*>(this + 1); }
};

namespace {

constexpr std::uint32_t kLengthBytes = 4;
// A sleeper looks again this often even if nobody wakes it: the process that should have
// (after its publishing store) may have been killed before its futex_wake.
constexpr auto kRecheck = std::chrono::milliseconds(100);

std::uint32_t items(std::uint64_t state) { return static_cast<std::uint32_t>(state >> 32); }
std::uint32_t offset(std::uint64_t state) { return static_cast<std::uint32_t>(state); }
std::uint64_t pack(std::uint32_t count, std::uint32_t at) { return (std::uint64_t{count} << 32) | at; }

// Items in the ring between a reader word and a writer word not older than it.
std::uint32_t count_between(std::uint64_t reader, std::uint64_t writer) { return items(writer) - items(reader); }

std::uint32_t used_bytes(const RingHeader& h, std::uint64_t reader, std::uint64_t writer) {
  if (count_between(reader, writer) == 0) return 0;
  const std::uint32_t r = offset(reader), w = offset(writer);
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
// our side's lock released, until `ready` says there is something to do.
template <class Hold, class Ready>
void step_aside(Hold& hold, Ready ready) {
  hold.unlock();
  for (int round = 0; round < pyconc::detail::kProcessQueueRounds && !ready(); ++round) {
    if (pyconc::detail::polite_yield()) continue;
    for (int i = 0; i < pyconc::detail::kSpinPauses && !ready(); ++i) pyconc::detail::cpu_relax();
  }
  hold.lock();
}

// Sleeps on `sequence` with our side's lock released, unless `ready` already holds. The other
// side publishes (a seq_cst store), then reads `sleepers` and bumps the sequence if it is
// non-zero; we count ourselves in, read the sequence, then look once more. In the single
// order of seq_cst operations either it sees us counted, or we see what it published.
template <class Hold, class Ready>
void sleep_until(Hold& hold, std::atomic<std::uint32_t>& sequence, std::atomic<std::uint32_t>& sleepers,
                 Ready ready, const Deadline& deadline) {
  hold.unlock();
  sleepers.fetch_add(1, std::memory_order_seq_cst);
  const std::uint32_t seen = sequence.load(std::memory_order_seq_cst);
  if (!ready())
    pyconc::detail::futex_wait(sequence, seen, Deadline::earlier(deadline, Deadline::after(kRecheck)),
                               FutexScope::process_shared);
  sleepers.fetch_sub(1, std::memory_order_seq_cst);
  hold.lock();
}

// After a publishing store: wakes one sleeper of the other side, if there is one.
void wake_one(std::atomic<std::uint32_t>& sequence, std::atomic<std::uint32_t>& sleepers) {
  if (sleepers.load(std::memory_order_seq_cst) == 0) return;
  sequence.fetch_add(1, std::memory_order_seq_cst);
  pyconc::detail::futex_wake(sequence, 1, FutexScope::process_shared);
}

}  // namespace

// One side's lock, taken over silently when its holder died: the ring is consistent
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
  Hold hold(put_lock_);
  // Only putters write `writer`, under the put lock: ours is the current one. The reader
  // word only grows, so an older one (the hint) can only make the ring look fuller.
  auto room_with = [&](std::uint64_t reader) {
    const std::uint64_t writer = h.put.writer.load(std::memory_order_relaxed);
    return (h.maxsize <= 0 || count_between(reader, writer) < static_cast<std::uint64_t>(h.maxsize)) &&
           h.capacity - used_bytes(h, reader, writer) >= need;
  };
  auto room = [&] {
    if (room_with(h.put.reader_seen.load(std::memory_order_relaxed))) return true;
    const std::uint64_t reader = h.get.reader.load(std::memory_order_seq_cst);
    h.put.reader_seen.store(reader, std::memory_order_relaxed);
    return room_with(reader);
  };
  // Outside the put lock another putter may move the writer on: a newer writer only looks
  // fuller, and an older one at worst ends the wait early (the loop looks again, locked).
  auto fresh_room = [&] { return room_with(h.get.reader.load(std::memory_order_seq_cst)); };
  for (int round = 0; !room(); ++round) {
    if (deadline.expired()) {
      // A putter woken for room that gave up wakes nobody: pass the room on.
      if (fresh_room()) wake_one(h.get.room_sequence, h.sleepers.putters);
      return false;
    }
    if (round == 0) {
      step_aside(hold, fresh_room);
    } else {
      sleep_until(hold, h.get.room_sequence, h.sleepers.putters, fresh_room, deadline);
    }
  }
  const std::uint64_t w = h.put.writer.load(std::memory_order_relaxed);
  const auto length = static_cast<std::uint32_t>(message.size());
  copy_in(h, offset(w), &length, kLengthBytes);
  copy_in(h, (offset(w) + kLengthBytes) % h.capacity, message.data(), length);
  h.tasks.unfinished.fetch_add(1, std::memory_order_relaxed);
  // The one store that makes the item visible.
  h.put.writer.store(pack(items(w) + 1, static_cast<std::uint32_t>((offset(w) + need) % h.capacity)),
                     std::memory_order_seq_cst);
  wake_one(h.put.items_sequence, h.sleepers.getters);
  // A putter woken for room that gave up (its timeout) wakes nobody: pass the room on.
  if (h.sleepers.putters.load(std::memory_order_seq_cst) > 0 && room()) wake_one(h.get.room_sequence, h.sleepers.putters);
  return true;
}

std::optional<std::string> ByteQueue::get(const Deadline& deadline) {
  RingHeader& h = *header_;
  Hold hold(get_lock_);
  // Only getters write `reader`, under the get lock. The hint is a writer word some getter
  // read (never behind `reader`, since nobody takes an item it has not seen): an older one
  // can only make the ring look emptier.
  auto count_with = [&](std::uint64_t writer) {
    return count_between(h.get.reader.load(std::memory_order_relaxed), writer);
  };
  auto count = [&] {
    const std::uint32_t hinted = count_with(h.get.writer_seen.load(std::memory_order_relaxed));
    if (hinted > 0) return hinted;
    const std::uint64_t writer = h.put.writer.load(std::memory_order_seq_cst);
    h.get.writer_seen.store(writer, std::memory_order_relaxed);
    return count_with(writer);
  };
  // Outside the get lock another getter may move the reader on: read it first, so that the
  // writer read after it is not behind it.
  auto has_items = [&] {
    const std::uint64_t reader = h.get.reader.load(std::memory_order_seq_cst);
    return count_between(reader, h.put.writer.load(std::memory_order_seq_cst)) > 0;
  };
  for (int round = 0; count() == 0; ++round) {
    if (deadline.expired()) {
      // A getter woken for an item that gave up wakes nobody: pass the item on.
      if (has_items()) wake_one(h.put.items_sequence, h.sleepers.getters);
      return std::nullopt;
    }
    if (round == 0) {
      step_aside(hold, has_items);
    } else {
      sleep_until(hold, h.put.items_sequence, h.sleepers.getters, has_items, deadline);
    }
  }
  const std::uint64_t r = h.get.reader.load(std::memory_order_relaxed);
  std::uint32_t length = 0;
  copy_out(h, offset(r), &length, kLengthBytes);
  std::string message(length, '\0');
  copy_out(h, (offset(r) + kLengthBytes) % h.capacity, message.data(), length);
  // The one store that takes the item out.
  h.get.reader.store(pack(items(r) + 1, static_cast<std::uint32_t>((offset(r) + kLengthBytes + length) % h.capacity)),
                     std::memory_order_seq_cst);
  wake_one(h.get.room_sequence, h.sleepers.putters);
  // Another getter may be asleep while items remain (a woken one that gave up): pass it on.
  if (h.sleepers.getters.load(std::memory_order_seq_cst) > 0 && count() > 0)
    wake_one(h.put.items_sequence, h.sleepers.getters);
  return message;
}

std::size_t ByteQueue::qsize() const {
  // The reader first: the writer read after it is never behind it.
  const std::uint64_t reader = header_->get.reader.load(std::memory_order_seq_cst);
  return count_between(reader, header_->put.writer.load(std::memory_order_seq_cst));
}
std::int64_t ByteQueue::maxsize() const { return header_->maxsize; }
std::uint64_t ByteQueue::unfinished_tasks() const { return header_->tasks.unfinished.load(); }

void ByteQueue::task_done() {
  Tasks& t = header_->tasks;
  std::uint64_t unfinished = t.unfinished.load();
  do {
    if (unfinished == 0) throw ValueError("task_done() called too many times");
  } while (!t.unfinished.compare_exchange_weak(unfinished, unfinished - 1));
  if (unfinished == 1) {
    t.done_sequence.fetch_add(1, std::memory_order_seq_cst);
    pyconc::detail::futex_wake(t.done_sequence, INT32_MAX, FutexScope::process_shared);
  }
}

bool ByteQueue::join(const Deadline& deadline) {
  Tasks& t = header_->tasks;
  for (;;) {
    const std::uint32_t seen = t.done_sequence.load(std::memory_order_seq_cst);
    if (t.unfinished.load(std::memory_order_seq_cst) == 0) return true;
    if (deadline.expired()) return false;
    pyconc::detail::futex_wait(t.done_sequence, seen, deadline, FutexScope::process_shared);
  }
}

}  // namespace pyconc::multiprocessing::detail
