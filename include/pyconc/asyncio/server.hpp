// pyconc::asyncio::Server — Python's asyncio.start_server / start_unix_server and the Server
// they return: each connection accepted gets its own (reader, writer) and a call of the
// handler; a handler that is a coroutine runs as a task of its own.
//
//   asyncio::Coroutine<void> echo(asyncio::StreamReader reader, asyncio::StreamWriter writer) {
//     for (std::string line; !(line = co_await reader.readline()).empty();) writer.write(line);
//     writer.close();
//     co_await writer.wait_closed();
//   }
//   asyncio::Server server = co_await asyncio::start_server(echo, "127.0.0.1", 8888);
//   co_await server.serve_forever();
//
// Python's rules (STR-12, 17, 18): an exception escaping a handler goes to the loop's
// exception handler ("Unhandled exception in client_connected_cb"), that connection is
// closed and the server goes on. SO_REUSEADDR is set by default. close() stops listening
// but leaves open connections running; wait_closed() returns once the server is closed and
// every connection has gone. Python's `async with server:` is `server.close(); co_await
// server.wait_closed();` — a Server is a handle, and when its last copy goes it stops
// listening (without waiting).
//
// Lifetime: take the reader and writer by value. A handler that is a lambda with captures is
// copied and kept alive for as long as any of its coroutines run.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "pyconc/asyncio/streams.hpp"
#include "pyconc/asyncio/task.hpp"

namespace pyconc::asyncio {

// Python's keyword arguments of start_server.
struct ServerOptions {
  std::int64_t limit = StreamReader::DEFAULT_LIMIT;  // each connection's StreamReader limit
  int backlog = 100;
  std::optional<bool> reuse_address;  // none: SO_REUSEADDR on (POSIX)
  bool reuse_port = false;
  bool start_serving = true;  // false: accept only after start_serving() or serve_forever()
  // Python's sock=: serve on a listening socket made elsewhere (a prefork server's inherited
  // descriptor; host must then be "" and port 0, the path ""). The server owns it from here
  // and closes it at close(); it is made non-blocking, which every process sharing it sees.
  std::optional<int> sock;
};

namespace detail {
class ServerCore;
// What a server calls for each connection: the handler's task, when it is a coroutine.
using ClientConnected = std::function<std::optional<TaskBase>(StreamReader, StreamWriter)>;

template <class F>
ClientConnected client_connected(F handler) {
  using Result = std::invoke_result_t<F&, StreamReader, StreamWriter>;
  static_assert(std::is_void_v<Result> || std::is_same_v<Result, Coroutine<void>>,
                "start_server: the handler is void(StreamReader, StreamWriter) or "
                "Coroutine<void>(StreamReader, StreamWriter)");
  auto shared = std::make_shared<F>(std::move(handler));
  return [shared](StreamReader reader, StreamWriter writer) -> std::optional<TaskBase> {
    if constexpr (std::is_void_v<Result>) {
      (*shared)(std::move(reader), std::move(writer));
      return std::nullopt;
    } else {
      // The task owns a copy of `shared`: a lambda handler outlives the server if need be.
      return create_task([shared, reader, writer] { return (*shared)(reader, writer); });
    }
  };
}

Coroutine<std::shared_ptr<ServerCore>> start_tcp_server(ClientConnected handler, std::string host, int port,
                                                        ServerOptions options);
Coroutine<std::shared_ptr<ServerCore>> start_unix_server(ClientConnected handler, std::string path,
                                                         ServerOptions options);
}  // namespace detail

class Server {
 public:
  explicit Server(std::shared_ptr<detail::ServerCore> core);

  // Stops listening (removing a Unix socket's path, as Python 3.13); connections go on.
  void close() const;
  // Python 3.13: closes (abort: drops) every connection the server accepted.
  void close_clients() const;
  void abort_clients() const;
  bool is_serving() const;
  Coroutine<void> start_serving() const;
  // pyconc's own (Python keeps these private): stop accepting for a while, the sockets kept
  // open and new connections left in the kernel's queue, then take them again. A prefork
  // worker with more connections than its siblings leaves the queue to them this way.
  void pause_serving() const;
  void resume_serving() const;
  // Accepts until cancelled; cancelling it closes the server and waits for its connections.
  // RuntimeError when already being awaited or when the server is closed.
  Coroutine<void> serve_forever() const;
  Coroutine<void> wait_closed() const;
  // The listening addresses (none once closed): Python's `[s.getsockname() for s in sockets]`.
  std::vector<SocketAddress> sockets() const;
  EventLoop& get_loop() const;

 private:
  std::shared_ptr<detail::ServerCore> core_;
};

// Python's start_server(client_connected_cb, host, port, ...): host "" listens on every
// interface (IPv4 and IPv6); port 0 picks a free port (see sockets()).
template <class F>
Coroutine<Server> start_server(F handler, std::string host, int port, ServerOptions options = {}) {
  auto callback = detail::client_connected(std::move(handler));
  auto core = co_await detail::start_tcp_server(std::move(callback), std::move(host), port, options);
  co_return Server(std::move(core));
}
// Python's start_unix_server(client_connected_cb, path, ...): a stale socket at `path` is
// replaced; any other file there is an OSError ("Address already in use"), as in Python.
template <class F>
Coroutine<Server> start_unix_server(F handler, std::string path, ServerOptions options = {}) {
  auto callback = detail::client_connected(std::move(handler));
  auto core = co_await detail::start_unix_server(std::move(callback), std::move(path), options);
  co_return Server(std::move(core));
}

}  // namespace pyconc::asyncio
