// WorkerContext (worker_context.hpp).
#include "worker_context.hpp"

#include "pyconc/errors.hpp"
#include "server_log.hpp"

namespace pyconc::server::detail {

WorkerKind parse_worker_class(const std::string& name) {
  if (name == "sync") return WorkerKind::sync;
  if (name == "gthread") return WorkerKind::gthread;
  if (name == "asyncio") return WorkerKind::asyncio;
  throw ValueError("worker_class must be sync, gthread or asyncio, not '" + name + "'");
}

WorkerContext::WorkerContext(const Application& application_, const Config& config_, WorkerKind kind_)
    : application(application_),
      config(config_),
      kind(kind_),
      limits{config_.limit_request_line, config_.limit_request_fields, config_.limit_request_field_size,
             config_.limit_request_body},
      access_log(config_.access_logfile, config_.access_log_format) {}

std::list<ConnectionWatch>::iterator WorkerContext::watch(asyncio::StreamWriter writer) {
  connections_.push_back(ConnectionWatch{std::move(writer)});
  if (on_connections_changed) on_connections_changed(connections_.size());
  return std::prev(connections_.end());
}

void WorkerContext::unwatch(std::list<ConnectionWatch>::iterator entry) {
  connections_.erase(entry);
  if (on_connections_changed) on_connections_changed(connections_.size());
}

void WorkerContext::sweep(double now) {
  for (auto& connection : connections_) {
    const bool late = connection.deadline != 0 && connection.deadline < now;
    if (late || (stopping && connection.idle)) connection.writer.transport().abort();
  }
}

bool WorkerContext::request_done() {
  ++requests;
  if (max_requests > 0 && requests >= max_requests && !stopping) {
    log_info("Autorestarting worker after current request.");
    stopping = true;
    if (on_stop) on_stop();
  }
  return stopping;
}

void WorkerContext::report_handler_error(std::exception_ptr error, const Request& request) const {
  std::string what = "unknown exception";
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    what = e.what();
  } catch (...) {
  }
  log_error("Error handling request " + request.target + ": " + what);
}

}  // namespace pyconc::server::detail
