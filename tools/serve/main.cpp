// pyconc-serve: Gunicorn's command line over pyconc::server, serving the built-in demo
// application (demo_app.hpp).
//   pyconc-serve -w 2 -k gthread --threads 4 -b 127.0.0.1:8000 --access-logfile -
#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>

#include "demo_app.hpp"
#include "pyconc/server.hpp"

int main(int argc, char** argv) {
  pyconc::server::Config config;
  config.argv.assign(argv, argv + argc);
  bool test_routes = false;

  CLI::App cli{"pyconc-serve: a prefork HTTP server (Gunicorn's model) running pyconc's demo application"};
  cli.add_option("-b,--bind", config.bind, "The socket to bind: HOST:PORT, [IPV6]:PORT or unix:PATH (repeatable)")
      ->capture_default_str();
  cli.add_option("-w,--workers", config.workers, "The number of worker processes")->capture_default_str();
  cli.add_option("-k,--worker-class", config.worker_class, "The type of workers")
      ->check(CLI::IsMember({"sync", "gthread", "asyncio"}))
      ->capture_default_str();
  cli.add_option("--threads", config.threads, "gthread: the threads of each worker")->capture_default_str();
  cli.add_option("--backlog", config.backlog, "The maximum number of pending connections")->capture_default_str();
  cli.add_option("-t,--timeout", config.timeout, "Workers silent for more than this many seconds are killed")
      ->capture_default_str();
  cli.add_option("--graceful-timeout", config.graceful_timeout, "Timeout for graceful workers restart")
      ->capture_default_str();
  cli.add_option("--keep-alive", config.keepalive, "Seconds to wait for requests on a Keep-Alive connection")
      ->capture_default_str();
  cli.add_option("--header-timeout", config.header_timeout, "Seconds a client has to send a request's head")
      ->capture_default_str();
  cli.add_option("--max-requests", config.max_requests, "Requests a worker serves before it is restarted (0: never)")
      ->capture_default_str();
  cli.add_option("--max-requests-jitter", config.max_requests_jitter, "The maximum jitter added to max-requests")
      ->capture_default_str();
  cli.add_option("--limit-request-line", config.limit_request_line, "The maximum size of the request line")
      ->capture_default_str();
  cli.add_option("--limit-request-fields", config.limit_request_fields, "The maximum number of header fields")
      ->capture_default_str();
  cli.add_option("--limit-request-field_size,--limit-request-field-size", config.limit_request_field_size,
                 "The maximum size of a header field")
      ->capture_default_str();
  cli.add_option("--limit-request-body", config.limit_request_body, "The maximum size of a request body (0: none)")
      ->capture_default_str();
  cli.add_option("--body-buffer-size", config.body_buffer_size,
                 "A request body above this size is streamed to the handler (gthread, asyncio)")
      ->capture_default_str();
  cli.add_option("--access-logfile", config.access_logfile, "The access log file ('-' is stdout)");
  cli.add_option("--access-logformat", config.access_log_format, "The access log format")->capture_default_str();
  cli.add_option("--error-logfile,--log-file", config.error_logfile, "The error log file ('-' is stderr)")
      ->capture_default_str();
  cli.add_flag("--test-routes", test_routes, "Add the test suite's routes (/crash, /hang, ...): never in production");
  CLI11_PARSE(cli, argc, argv);

  try {
    pyconc::server::Arbiter arbiter(pyconc_serve::demo_application(test_routes), config);
    return arbiter.run();
  } catch (const std::exception& error) {
    std::fprintf(stderr, "pyconc-serve: %s\n", error.what());
    return 1;
  }
}
