// WorkerBoard (worker_board.hpp). Every cell is read and written through atomic_ref: the
// processes share it without a lock, and a torn or stale count only delays a decision.
#include "worker_board.hpp"

#include <atomic>
#include <chrono>

#include "pyconc/errors.hpp"

namespace pyconc::server::detail {

namespace {
constexpr int heartbeat_field = 0, connections_field = 1;

std::int64_t load(std::int64_t& cell) { return std::atomic_ref<std::int64_t>(cell).load(std::memory_order_relaxed); }
void store(std::int64_t& cell, std::int64_t value) {
  std::atomic_ref<std::int64_t>(cell).store(value, std::memory_order_relaxed);
}
}  // namespace

std::int64_t heartbeat_now() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

WorkerBoard::WorkerBoard(std::size_t slots) : cells_(slots * 2), slots_(slots) {}

std::size_t WorkerBoard::claim() {
  for (std::size_t slot = 0; slot < slots_; ++slot) {
    if (load(cell(slot, heartbeat_field)) != 0) continue;
    store(cell(slot, connections_field), 0);
    store(cell(slot, heartbeat_field), heartbeat_now());  // booting counts as alive
    return slot;
  }
  throw RuntimeError("too many workers: every one of the " + std::to_string(slots_) + " slots is taken");
}

void WorkerBoard::release(std::size_t slot) {
  store(cell(slot, connections_field), not_accepting);
  store(cell(slot, heartbeat_field), 0);
}

std::int64_t WorkerBoard::last_beat(std::size_t slot) const { return load(cell(slot, heartbeat_field)); }
void WorkerBoard::beat(std::size_t slot) { store(cell(slot, heartbeat_field), heartbeat_now()); }

void WorkerBoard::set_connections(std::size_t slot, std::int64_t connections) {
  store(cell(slot, connections_field), connections);
}

bool WorkerBoard::fair_to_accept(std::size_t slot, std::int64_t fresh_after) const {
  const std::int64_t mine = load(cell(slot, connections_field));
  for (std::size_t other = 0; other < slots_; ++other) {
    if (other == slot || load(cell(other, heartbeat_field)) <= fresh_after) continue;
    if (load(cell(other, connections_field)) + 1 < mine) return false;
  }
  return true;
}

}  // namespace pyconc::server::detail
