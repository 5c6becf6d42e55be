// A user's application under pyconc's prefork server: what `gunicorn -w 2 -k gthread
// --threads 4 app:app` is to a Flask app. Two routes, a synchronous handler (run on each
// worker's threads) and its coroutine twin (for `-k asyncio`).
//   server_app [HOST:PORT] [sync|gthread|asyncio]
#include <pyconc/asyncio.hpp>
#include <pyconc/server.hpp>

#include <atomic>
#include <cstdio>
#include <string>

namespace server = pyconc::server;

namespace {

// Each worker process counts its own requests: workers share nothing, as Gunicorn's.
std::atomic<long> served{0};

server::Response route(const server::Request& request) {
  server::Response response;
  response.headers.add("Content-Type", "text/plain; charset=utf-8");
  if (request.path == "/") {
    response.body = "hello from a pyconc worker\n";
  } else if (request.path == "/count") {
    response.body = std::to_string(++served) + " requests in this worker\n";
  } else {
    response.status = 404;
    response.body = "no route for " + request.path + "\n";
  }
  return response;
}

}  // namespace

int main(int argc, char** argv) {
  server::Config config;
  config.bind = {argc > 1 ? argv[1] : "127.0.0.1:8000"};
  config.worker_class = argc > 2 ? argv[2] : "gthread";
  config.workers = 2;
  config.threads = 4;
  config.argv.assign(argv, argv + argc);  // for a USR2 upgrade in place

  server::Application app;
  app.handler = route;
  app.async_handler = [](server::Request request) -> pyconc::asyncio::Coroutine<server::Response> {
    co_return route(request);
  };
  try {
    return server::Arbiter(app, config).run();  // until TERM or INT
  } catch (const std::exception& error) {
    std::fprintf(stderr, "server_app: %s\n", error.what());
    return 1;
  }
}
