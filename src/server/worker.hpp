// A worker process's life, after Gunicorn's Worker.run: serve the inherited listening
// sockets on an event loop until told to stop, beating its heart on the shared board so the
// arbiter can tell a hung worker from a busy one, and accepting only while it is not ahead of
// its siblings in connections.
#pragma once

#include <cstdint>
#include <vector>

#include "pyconc/server/arbiter.hpp"
#include "worker_board.hpp"

namespace pyconc::server::detail {

struct WorkerSetup {
  const Application* application;
  const Config* config;
  std::vector<int> listeners;
  WorkerBoard* board;  // shared with the arbiter and the other workers
  std::size_t slot;    // this worker's place on it
  int age;             // the arbiter's count of workers started, this one's number
};

// Runs in the forked child; never returns (the process ends with its exit status: 0 after
// a stop, worker_boot_error when it could not start serving).
[[noreturn]] void run_worker(const WorkerSetup& setup);

}  // namespace pyconc::server::detail
