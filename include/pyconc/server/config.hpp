// pyconc::server::Config — Gunicorn's settings, with Gunicorn's names and defaults.
//
// The limits are Gunicorn's: a request line longer than limit_request_line gets 414, more
// than limit_request_fields header fields or one longer than limit_request_field_size gets
// 431, a body above limit_request_body 413, anything malformed 400 (0 lifts a limit).
// header_timeout is pyconc's own: a client must send a whole request head within it, or is
// cut off (the slowloris defence Gunicorn leaves to a proxy in front of it).
//
//   pyconc::server::Config config;
//   config.bind = {"127.0.0.1:8000"};
//   config.workers = 2;
//   config.worker_class = "gthread";
//   config.threads = 4;
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace pyconc::server {

struct Config {
  std::vector<std::string> bind{"127.0.0.1:8000"};  // "HOST:PORT", "[::1]:PORT" or "unix:PATH"
  int backlog = 2048;
  int workers = 1;
  std::string worker_class = "sync";  // sync, gthread or asyncio
  int threads = 1;                    // gthread: requests in flight per worker
  double timeout = 30;                // seconds a worker may stay silent before it is killed
  double graceful_timeout = 30;       // seconds a stopping worker has to finish its requests
  double keepalive = 2;               // seconds an idle keep-alive connection is kept open
  double header_timeout = 10;         // seconds a client has to send a request head
  int max_requests = 0;               // a worker restarts after this many requests (0: never)
  int max_requests_jitter = 0;        // plus a random 0..jitter, so workers do not restart at once
  int limit_request_line = 4094;
  int limit_request_fields = 100;
  int limit_request_field_size = 8190;
  std::int64_t limit_request_body = 64 << 20;
  // pyconc's own: a request body above this many bytes is streamed (Request::body_stream)
  // by the gthread and asyncio workers instead of held whole in Request::body.
  std::int64_t body_buffer_size = 1 << 20;
  std::string access_logfile;  // "" none, "-" stdout, else a file (appended; reopened on USR1)
  std::string access_log_format = R"(%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s")";
  std::string error_logfile = "-";  // the arbiter's own messages: "-" stderr, else a file
  std::string proc_name = "pyconc-serve";
  // USR2 re-executes this program (argv[0] and its arguments) with the sockets inherited.
  std::vector<std::string> argv;
};

}  // namespace pyconc::server
