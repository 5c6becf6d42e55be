// run_worker (worker.hpp).
#include "worker.hpp"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <random>

#include "accept_balancer.hpp"
#include "http_connection.hpp"
#include "pyconc/asyncio.hpp"
#include "server_log.hpp"
#include "worker_context.hpp"

namespace pyconc::server::detail {

namespace {

// What the kind needs of the application, checked before serving: a missing handler is a
// boot error, which stops the arbiter with this message instead of a respawn loop.
void check_application(const Application& application, WorkerKind kind) {
  if (kind == WorkerKind::asyncio && !application.async_handler) {
    throw ValueError("the asyncio worker needs an application with an async_handler");
  }
  if (kind != WorkerKind::asyncio && !application.handler) {
    throw ValueError("the sync and gthread workers need an application with a handler");
  }
}

std::int64_t own_max_requests(const Config& config) {
  if (config.max_requests <= 0) return 0;
  if (config.max_requests_jitter <= 0) return config.max_requests;
  std::mt19937 random(std::random_device{}());
  return config.max_requests + std::uniform_int_distribution<int>(0, config.max_requests_jitter)(random);
}

// What the signal handlers and the max_requests hook reach: shared, so that a signal
// arriving once serve() is over finds it still there.
struct StopRequest {
  asyncio::Event event;
  bool fast = false;
};

// Often enough that the arbiter's `timeout` sees a live worker, cheap enough to not matter.
double heartbeat_interval(const Config& config) { return std::clamp(config.timeout / 4, 0.05, 1.0); }

// Beats until cancelled, draining included: a worker finishing its requests is alive.
asyncio::Coroutine<void> heartbeat_loop(std::shared_ptr<WorkerContext> context, WorkerBoard* board, std::size_t slot) {
  const double interval = heartbeat_interval(context->config);
  auto& loop = asyncio::get_running_loop();
  for (;;) {
    board->beat(slot);
    context->sweep(loop.time());
    co_await asyncio::sleep(std::chrono::duration<double>(interval));
  }
}

// The balancer's tick: a sibling's count changes without telling this process.
asyncio::Coroutine<void> balance_loop(std::shared_ptr<AcceptBalancer> balancer) {
  for (;;) {
    balancer->decide();
    co_await asyncio::sleep(std::chrono::milliseconds(50));
  }
}

asyncio::Coroutine<void> wait_all_closed(std::vector<asyncio::Server>& servers) {
  for (auto& server : servers) co_await server.wait_closed();
}

asyncio::Coroutine<void> serve(const WorkerSetup& setup, std::shared_ptr<WorkerContext> context) {
  auto& loop = asyncio::get_running_loop();
  auto stop = std::make_shared<StopRequest>();
  context->on_stop = [stop] { stop->event.set(); };
  loop.add_signal_handler(SIGTERM, [stop] { stop->event.set(); });
  auto stop_fast = [stop] {
    stop->fast = true;
    stop->event.set();
  };
  loop.add_signal_handler(SIGINT, stop_fast);
  loop.add_signal_handler(SIGQUIT, stop_fast);
  loop.add_signal_handler(SIGUSR1, [context] { context->access_log.reopen(); });
  for (int ignored : {SIGHUP, SIGTTIN, SIGTTOU, SIGWINCH, SIGUSR2}) loop.add_signal_handler(ignored, [] {});

  auto handler = [context](asyncio::StreamReader reader, asyncio::StreamWriter writer) {
    return serve_http(std::move(reader), std::move(writer), context);
  };
  std::vector<asyncio::Server> servers;
  for (int fd : setup.listeners) {
    asyncio::ServerOptions options;
    options.sock = fd;
    // Accepts per wake-up: one for the sync and gthread workers, as Gunicorn's, so that a
    // burst of connections spreads over the workers (each keeps its connections); the asyncio
    // worker, which never waits on a handler, takes a few.
    options.backlog = context->kind == WorkerKind::asyncio ? 8 : 1;
    servers.push_back(co_await asyncio::start_server(handler, "", 0, options));
  }
  const auto stale_after = static_cast<std::int64_t>(3e9 * heartbeat_interval(context->config));
  auto balancer = std::make_shared<AcceptBalancer>(*setup.board, setup.slot, servers, context->stopping, stale_after);
  context->on_connections_changed = [balancer](std::size_t open) { balancer->connections_changed(open); };
  auto heart = asyncio::create_task(heartbeat_loop(context, setup.board, setup.slot));
  auto balance = asyncio::create_task(balance_loop(balancer));
  co_await stop->event.wait();

  // Gunicorn's order: stop accepting, let the requests in flight finish within
  // graceful_timeout, close idle keep-alive connections at once.
  context->stopping = true;
  context->on_connections_changed = nullptr;
  balance.cancel();
  balancer->stop();
  for (auto& server : servers) server.close();
  if (!stop->fast) {
    context->sweep(loop.time());
    try {
      co_await asyncio::wait_for(wait_all_closed(servers), std::chrono::duration<double>(context->config.graceful_timeout));
    } catch (const TimeoutError&) {
      log_warning("Graceful timeout: dropping " + std::to_string(context->connection_count()) + " connection(s)");
    }
  }
  for (auto& server : servers) server.abort_clients();
  heart.cancel();
}

}  // namespace

void run_worker(const WorkerSetup& setup) {
  int status = 0;
  std::shared_ptr<WorkerContext> context;
  try {
    const WorkerKind kind = parse_worker_class(setup.config->worker_class);
    check_application(*setup.application, kind);
    context = std::make_shared<WorkerContext>(*setup.application, *setup.config, kind);
    if (kind == WorkerKind::gthread) context->pool.emplace(setup.config->threads);
    context->max_requests = own_max_requests(*setup.config);
    setup.board->beat(setup.slot);
  } catch (const std::exception& error) {
    log_error(std::string("Exception in worker process: ") + error.what());
    status = worker_boot_error;
  }
  if (status == 0) {
    log_info("Booting worker with pid: " + std::to_string(::getpid()));
    try {
      asyncio::run(serve(setup, context));
    } catch (const std::exception& error) {
      log_error(std::string("Worker exiting: ") + error.what());
      status = 1;
    }
  }
  log_info("Worker exiting (pid: " + std::to_string(::getpid()) + ")");
  // A handler thread may still be stuck in the application: the process ends without
  // waiting for it (Gunicorn's workers end with os._exit too).
  std::fflush(nullptr);
  ::_exit(status);
}

}  // namespace pyconc::server::detail
