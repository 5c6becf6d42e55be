// What every connection of one worker process shares: the application and settings, the
// worker kind's way of running a handler, the access log, and the watch list the worker's
// heartbeat sweeps (requests too slow to arrive, idle keep-alive connections to drop).
#pragma once

#include <functional>
#include <list>
#include <memory>
#include <optional>

#include "access_log.hpp"
#include "pyconc/asyncio/streams.hpp"
#include "pyconc/futures.hpp"
#include "pyconc/server/arbiter.hpp"
#include "request_parser.hpp"

namespace pyconc::server::detail {

enum class WorkerKind { sync, gthread, asyncio };
// "sync", "gthread" or "asyncio"; ValueError otherwise.
WorkerKind parse_worker_class(const std::string& name);

struct ConnectionWatch {
  asyncio::StreamWriter writer;
  double deadline = 0;  // loop time after which the connection is dropped; 0: none
  bool idle = false;    // between requests: closed at once when the worker stops
};

class WorkerContext {
 public:
  WorkerContext(const Application& application, const Config& config, WorkerKind kind);

  const Application& application;
  const Config& config;
  const WorkerKind kind;
  const HttpLimits limits;
  AccessLog access_log;
  std::optional<futures::ThreadPoolExecutor> pool;  // gthread's threads
  bool stopping = false;
  std::int64_t requests = 0;
  std::int64_t max_requests = 0;  // this worker's own limit, jitter included; 0: none
  std::function<void()> on_stop;  // the worker begins its graceful stop (max_requests reached)
  std::function<void(std::size_t open)> on_connections_changed;

  std::list<ConnectionWatch>::iterator watch(asyncio::StreamWriter writer);
  void unwatch(std::list<ConnectionWatch>::iterator entry);
  std::size_t connection_count() const { return connections_.size(); }
  // Drops the connections past their deadline, and the idle ones once stopping.
  void sweep(double now);
  // One request answered; true when it was the last this worker may serve.
  bool request_done();
  // A handler's exception: reported on stderr with the request, as Gunicorn logs it.
  void report_handler_error(std::exception_ptr error, const Request& request) const;

 private:
  std::list<ConnectionWatch> connections_;
};

}  // namespace pyconc::server::detail
