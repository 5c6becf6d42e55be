// Internal: the shared-memory core of multiprocessing's Queue, JoinableQueue and SimpleQueue
// — a ring of length-prefixed messages in one shared block, waited on with the shared futex
// form. No pipe and no feeder thread.
//
// Two process-shared Locks, one per side: putters take the put lock, getters the get lock,
// so a producer and a consumer never wait for each other's lock (Michael and Scott's
// two-lock queue, on a ring). Each side writes only its own progress word and reads the
// other's, so the two sides meet only on those two cache lines.
//
// Death-safe by construction: each side publishes its progress with one 64-bit store after
// copying (reader: items taken + read offset; writer: items put + write offset). A process
// killed mid-get or mid-put leaves the ring as it was before that call; the lock it held is
// taken over by the next caller (see synchronize.hpp for how its death is seen), and a
// sleeper it would have woken looks again within kRecheck.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "pyconc/multiprocessing/shared_block.hpp"
#include "pyconc/multiprocessing/synchronize.hpp"
#include "pyconc/timeout.hpp"

namespace pyconc::multiprocessing::detail {

struct RingHeader;

class ByteQueue {
 public:
  ByteQueue() = default;  // unusable until assigned or loaded
  ByteQueue(std::int64_t maxsize, std::size_t buffer_bytes);

  // False when the queue stayed full (maxsize items, or no room for the bytes) until the
  // deadline. A message larger than the whole buffer is a ValueError.
  bool put(std::string_view message, const Deadline& deadline);
  // Empty when the queue stayed empty until the deadline.
  std::optional<std::string> get(const Deadline& deadline);
  std::size_t qsize() const;
  std::int64_t maxsize() const;
  void task_done();
  bool join(const Deadline& deadline);
  std::uint64_t unfinished_tasks() const;

  template <class Archive>
  void save(Archive& archive) const {
    SharedBlock::save(archive, block_);
    archive(put_lock_, get_lock_);
  }
  template <class Archive>
  void load(Archive& archive) {
    block_ = SharedBlock::load(archive);
    header_ = static_cast<RingHeader*>(block_->data());
    archive(put_lock_, get_lock_);
  }

 private:
  class Hold;
  std::shared_ptr<SharedBlock> block_;
  RingHeader* header_ = nullptr;
  Lock put_lock_;  // putters, one at a time
  Lock get_lock_;  // getters, one at a time
};

}  // namespace pyconc::multiprocessing::detail
