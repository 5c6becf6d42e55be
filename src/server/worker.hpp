// A worker process's life, after Gunicorn's Worker.run: serve the inherited listening
// sockets on an event loop until told to stop, beating its heart into shared memory so the
// arbiter can tell a hung worker from a busy one.
#pragma once

#include <cstdint>
#include <vector>

#include "pyconc/server/arbiter.hpp"

namespace pyconc::server::detail {

struct WorkerSetup {
  const Application* application;
  const Config* config;
  std::vector<int> listeners;
  std::int64_t* heartbeat;  // steady-clock nanoseconds, shared with the arbiter
  int age;                  // the arbiter's count of workers started, this one's number
};

// Heartbeats are steady_clock (CLOCK_MONOTONIC) nanoseconds: one clock for every process.
std::int64_t heartbeat_now();

// Runs in the forked child; never returns (the process ends with its exit status: 0 after
// a stop, worker_boot_error when it could not start serving).
[[noreturn]] void run_worker(const WorkerSetup& setup);

}  // namespace pyconc::server::detail
