// pyconc::server::Arbiter — Gunicorn's master process: binds the listening sockets, starts
// `workers` worker processes (fork: each a copy of this one, so the application needs no
// serialization) and keeps them alive.
//
// Each worker serves the application on its own event loop: `sync` runs one request at a
// time and closes the connection after it; `gthread` runs the synchronous handler on a pool
// of `threads` threads, the connections on the loop (keep-alive, pipelining); `asyncio` runs
// the coroutine handler on the loop itself. Connections beyond what a worker is serving wait
// in the kernel's accept queue (`backlog`).
//
// Gunicorn's rules: a worker that dies is replaced (after a backoff if they keep dying); one
// silent for `timeout` seconds is killed and replaced; `max_requests` recycles a worker; a
// worker that fails to boot stops the arbiter (exit status 3) instead of a respawn loop.
// Signals: TERM graceful stop (workers get graceful_timeout to finish), INT/QUIT fast stop,
// HUP new workers then the old ones drained, TTIN/TTOU one worker more/less, USR1 reopen the
// log files, USR2 re-execute the program with the listening sockets inherited (the new
// arbiter serves beside the old one, which TERM then retires).
//
//   pyconc::server::Application app;
//   app.handler = [](const pyconc::server::Request&) { return pyconc::server::Response{200, {}, "hi\n"}; };
//   pyconc::server::Config config;
//   config.workers = 2;
//   return pyconc::server::Arbiter(app, config).run();
#pragma once

#include <functional>
#include <memory>

#include "pyconc/asyncio/coroutine.hpp"
#include "pyconc/server/config.hpp"
#include "pyconc/server/http.hpp"

namespace pyconc::server {

// The sync and gthread workers need `handler`; the asyncio worker needs `async_handler`.
struct Application {
  std::function<Response(const Request&)> handler;
  std::function<asyncio::Coroutine<Response>(Request)> async_handler;
};

// Exit status of a worker whose set-up failed (Gunicorn's WORKER_BOOT_ERROR), and of the
// arbiter that stopped because of it.
inline constexpr int worker_boot_error = 3;

class Arbiter {
 public:
  Arbiter(Application application, Config config);
  ~Arbiter();
  Arbiter(const Arbiter&) = delete;
  Arbiter& operator=(const Arbiter&) = delete;

  // Runs until stopped by a signal; returns the process's exit status (0 after TERM/INT).
  // ValueError for a configuration that cannot work, OSError when a socket cannot be bound.
  int run();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace pyconc::server
