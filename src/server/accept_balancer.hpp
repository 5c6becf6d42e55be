// Whether one worker accepts new connections: while it is not ahead of its least-loaded live
// sibling on the worker board (worker_board.hpp), so the kernel's queue goes to that sibling.
// Decided at every connection this worker opens or closes (connections_changed), on the
// worker's 50 ms tick (a sibling's count changes without telling this process), and soon
// after a pause: in a burst every worker may pause on a stale view of the others (each ahead
// of one that has not published its accepts yet) and none would accept until its tick, so a
// paused worker looks again after 1 ms, then 2, 4, ... up to 50 ms while it stays paused.
#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

#include "pyconc/asyncio/event_loop.hpp"
#include "pyconc/asyncio/server.hpp"
#include "worker_board.hpp"

namespace pyconc::server::detail {

class AcceptBalancer {
 public:
  // `stopping`: once true, nothing is decided any more (the worker has stopped accepting).
  // `stale_after`: nanoseconds after which a sibling's heartbeat no longer counts it as live.
  AcceptBalancer(WorkerBoard& board, std::size_t slot, std::vector<asyncio::Server>& servers, const bool& stopping,
                 std::int64_t stale_after);
  ~AcceptBalancer();
  AcceptBalancer(const AcceptBalancer&) = delete;
  AcceptBalancer& operator=(const AcceptBalancer&) = delete;

  // On the worker's loop: this worker now has `open` connections.
  void connections_changed(std::size_t open);
  // Pauses or resumes the servers as the board says.
  void decide();
  // The worker stops accepting for good: the board says so to its siblings.
  void stop();

  bool accepting() const { return accepting_; }
  // The wait before the next look while paused (1 ms after a pause, doubling to 50 ms).
  std::chrono::milliseconds recheck_delay() const { return recheck_delay_; }

  static constexpr std::chrono::milliseconds first_recheck{1}, last_recheck{50};

 private:
  void schedule_recheck();

  WorkerBoard& board_;
  std::size_t slot_;
  std::vector<asyncio::Server>& servers_;
  const bool& stopping_;
  std::int64_t stale_after_;
  bool accepting_ = true;
  std::chrono::milliseconds recheck_delay_ = first_recheck;
  asyncio::TimerHandle recheck_;
};

}  // namespace pyconc::server::detail
