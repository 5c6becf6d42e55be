// AcceptBalancer (accept_balancer.hpp).
#include "accept_balancer.hpp"

#include <algorithm>

namespace pyconc::server::detail {

AcceptBalancer::AcceptBalancer(WorkerBoard& board, std::size_t slot, std::vector<asyncio::Server>& servers,
                               const bool& stopping, std::int64_t stale_after)
    : board_(board), slot_(slot), servers_(servers), stopping_(stopping), stale_after_(stale_after) {}

AcceptBalancer::~AcceptBalancer() { recheck_.cancel(); }

void AcceptBalancer::connections_changed(std::size_t open) {
  board_.set_connections(slot_, static_cast<std::int64_t>(open));
  decide();
}

void AcceptBalancer::decide() {
  if (stopping_) return;
  const bool fair = board_.fair_to_accept(slot_, heartbeat_now() - stale_after_);
  if (fair == accepting_) return;
  accepting_ = fair;
  for (auto& server : servers_) {
    if (fair) {
      server.resume_serving();
    } else {
      server.pause_serving();
    }
  }
  recheck_.cancel();
  recheck_delay_ = first_recheck;
  if (!fair) schedule_recheck();
}

void AcceptBalancer::stop() {
  recheck_.cancel();
  board_.set_connections(slot_, WorkerBoard::not_accepting);
}

void AcceptBalancer::schedule_recheck() {
  recheck_ = asyncio::get_running_loop().call_later(recheck_delay_, [this] {
    decide();
    if (accepting_ || stopping_) return;
    recheck_delay_ = std::min(recheck_delay_ * 2, last_recheck);
    schedule_recheck();
  });
}

}  // namespace pyconc::server::detail
