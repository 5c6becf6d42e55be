// The notice board the arbiter and its workers share (fork-inherited shared memory): one slot
// per worker with its heartbeat and its open connections. The arbiter reads the heartbeats
// (a silent worker is killed); the workers read each other's connection counts, so that a
// worker with more connections than its least-loaded live sibling stops accepting and the
// kernel's queue goes to that sibling — keep-alive connections stay where they were accepted,
// and a burst of them would otherwise pile onto whichever worker woke first.
#pragma once

#include <cstddef>
#include <cstdint>

#include "pyconc/multiprocessing/sharedctypes.hpp"

namespace pyconc::server::detail {

class WorkerBoard {
 public:
  // What a worker writes as its connection count once it no longer accepts (stopping):
  // never the least loaded, so nobody leaves the queue to it.
  static constexpr std::int64_t not_accepting = INT64_MAX / 2;

  explicit WorkerBoard(std::size_t slots);

  // The arbiter's side: a free slot for a new worker (its heartbeat now, no connections;
  // RuntimeError when every slot is taken), and the slot of a worker that is gone.
  std::size_t claim();
  void release(std::size_t slot);
  std::int64_t last_beat(std::size_t slot) const;

  // A worker's side.
  void beat(std::size_t slot);
  void set_connections(std::size_t slot, std::int64_t connections);
  // True unless another worker whose heartbeat is newer than `fresh_after` (steady-clock ns)
  // has at least two connections fewer: the least-loaded live worker always accepts.
  bool fair_to_accept(std::size_t slot, std::int64_t fresh_after) const;

 private:
  std::int64_t& cell(std::size_t slot, int field) const { return cells_.data()[slot * 2 + field]; }
  multiprocessing::RawArray<std::int64_t> cells_;  // per slot: heartbeat (0: free), connections
  std::size_t slots_;
};

// Heartbeats are steady_clock (CLOCK_MONOTONIC) nanoseconds: one clock for every process.
std::int64_t heartbeat_now();

}  // namespace pyconc::server::detail
