// open_connection and open_unix_connection, after CPython 3.13's streams.open_connection and
// base_events.create_connection (each resolved address in turn).
#include <unistd.h>

#include "fd_transport.hpp"
#include "sockets.hpp"

namespace pyconc::asyncio {

namespace {

StreamPair streams_over(int fd, StreamReader reader) {
  auto transport = detail::FdTransport::make(get_running_loop(), fd, detail::FdTransport::Kind::connection, reader);
  return StreamPair(reader, StreamWriter(std::move(transport), reader));
}

// Python's rule for several failed attempts: one error, or errors that all read the same,
// are raised as they are; different ones become OSError("Multiple exceptions: ...").
[[noreturn]] void raise_connect_errors(const std::vector<std::exception_ptr>& errors) {
  std::vector<std::string> messages;
  for (const auto& error : errors) {
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      messages.emplace_back(e.what());
    }
  }
  bool all_same = true;
  for (const auto& message : messages) all_same = all_same && message == messages.front();
  if (all_same) std::rethrow_exception(errors.front());
  std::string joined;
  for (const auto& message : messages) joined += (joined.empty() ? "" : ", ") + message;
  throw OSError("Multiple exceptions: " + joined);
}

}  // namespace

Coroutine<StreamPair> open_connection(std::string host, int port, std::int64_t limit) {
  StreamReader reader(limit);
  auto endpoints = co_await detail::resolve(host, port, false);
  std::vector<std::exception_ptr> errors;
  for (const auto& endpoint : endpoints) {
    std::optional<int> fd;
    try {
      fd = co_await detail::connect_socket(endpoint);
    } catch (const Error&) {
      errors.push_back(std::current_exception());
    }
    if (fd) co_return streams_over(*fd, reader);
  }
  raise_connect_errors(errors);
}

Coroutine<StreamPair> open_unix_connection(std::string path, std::int64_t limit) {
  StreamReader reader(limit);
  const int fd = co_await detail::connect_socket(detail::unix_endpoint(path));
  co_return streams_over(fd, reader);
}

}  // namespace pyconc::asyncio
