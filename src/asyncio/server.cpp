// start_server, start_unix_server and Server, after CPython 3.13's base_events.Server,
// selector_events._accept_connection and streams.StreamReaderProtocol.
#include "pyconc/asyncio/server.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>

#include "fd_transport.hpp"
#include "loop_core.hpp"
#include "sockets.hpp"

namespace pyconc::asyncio::detail {

class ServerCore : public std::enable_shared_from_this<ServerCore> {
 public:
  ServerCore(EventLoop& loop, ClientConnected handler, ServerOptions options)
      : loop_(&loop), core_(loop.core_ptr()), handler_(std::move(handler)), options_(options) {}
  // The last Server handle went: stop listening (nobody waits on it any more).
  ~ServerCore() { close_listeners(); }

  void listen_on(const Endpoint& endpoint, std::string unix_path);
  void adopt(int listening_fd);
  void start_serving();
  void pause_serving();
  void close();
  void close_clients(bool abort);
  bool is_serving() const { return serving_; }
  bool closed() const { return closed_; }
  std::vector<SocketAddress> sockets() const;
  std::string repr() const;
  EventLoop& loop() const { return *loop_; }
  Coroutine<void> wait_closed(std::shared_ptr<ServerCore> keep_alive);
  Coroutine<void> serve_forever(std::shared_ptr<ServerCore> keep_alive);

 private:
  struct Listener {
    int fd;
    std::string unix_path;  // removed at close()
  };
  void on_acceptable(int listening_fd);
  void on_accepted(int fd, bool tcp);
  void report_handler_failure(std::exception_ptr error, const std::shared_ptr<FdTransport>& transport);
  void detach(FdTransport* transport);
  void close_listeners();
  void wake_if_done();

  EventLoop* loop_;
  std::shared_ptr<LoopCore> core_;
  ClientConnected handler_;
  ServerOptions options_;
  std::vector<Listener> listeners_;
  bool serving_ = false, closed_ = false;
  std::map<FdTransport*, std::weak_ptr<FdTransport>> clients_;
  std::vector<Future<void>> closed_waiters_;
  std::optional<Future<void>> serving_forever_;
};

void ServerCore::listen_on(const Endpoint& endpoint, std::string unix_path) {
  const bool reuse_address = options_.reuse_address.value_or(true);
  listeners_.push_back({listening_socket(endpoint, options_.backlog, reuse_address, options_.reuse_port), std::move(unix_path)});
}

void ServerCore::adopt(int listening_fd) {
  int type = 0;
  socklen_t length = sizeof type;
  if (::getsockopt(listening_fd, SOL_SOCKET, SO_TYPE, &type, &length) != 0 || type != SOCK_STREAM) {
    throw ValueError("A Stream Socket was expected, got " + std::to_string(listening_fd));
  }
  // Other processes may accept from the same socket: a wake-up can find it already empty.
  ::fcntl(listening_fd, F_SETFL, ::fcntl(listening_fd, F_GETFL) | O_NONBLOCK);
  listeners_.push_back({listening_fd, {}});
}

void ServerCore::start_serving() {
  if (serving_ || closed_) return;
  serving_ = true;
  std::weak_ptr<ServerCore> self = weak_from_this();
  for (const auto& listener : listeners_) {
    loop_->add_reader(listener.fd, [self, fd = listener.fd] {
      if (auto server = self.lock()) server->on_acceptable(fd);
    });
  }
}

void ServerCore::on_acceptable(int listening_fd) {
  // Python accepts up to `backlog` connections per event, then lets the loop go on.
  for (int i = 0; i < std::max(1, options_.backlog); ++i) {
    sockaddr_storage peer{};
    socklen_t length = sizeof peer;
    const int fd = ::accept4(listening_fd, reinterpret_cast<sockaddr*>(&peer), &length, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      on_accepted(fd, peer.ss_family == AF_INET || peer.ss_family == AF_INET6);
      continue;
    }
    const int error = errno;
    if (error == EINTR || error == ECONNABORTED) continue;
    if (error == EMFILE || error == ENFILE || error == ENOBUFS || error == ENOMEM) {
      // Python's answer to running out of descriptors: say so, pause accepting for a second.
      ExceptionContext context{"socket.accept() out of system resource", {}, repr(), false};
      try {
        raise_os_error(error, "accept");
      } catch (...) {
        context.exception = std::current_exception();
      }
      loop_->call_exception_handler(context);
      loop_->remove_reader(listening_fd);
      std::weak_ptr<ServerCore> self = weak_from_this();
      loop_->call_later(std::chrono::seconds(1), [self, listening_fd] {
        auto server = self.lock();
        if (!server || !server->serving_) return;
        server->loop_->add_reader(listening_fd, [self, listening_fd] {
          if (auto again = self.lock()) again->on_acceptable(listening_fd);
        });
      });
    }
    return;  // EAGAIN: nothing more waiting
  }
}

void ServerCore::on_accepted(int fd, bool tcp) {
  if (tcp) {
    const int on = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  }
  StreamReader reader(options_.limit);
  auto transport = FdTransport::make(*loop_, fd, FdTransport::Kind::connection, reader);
  clients_[transport.get()] = transport;
  std::weak_ptr<ServerCore> self = weak_from_this();
  transport->on_connection_lost([self, key = transport.get()] {
    if (auto server = self.lock()) server->detach(key);
  });
  std::optional<TaskBase> task;
  try {
    task = handler_(reader, StreamWriter(transport, reader));
  } catch (...) {
    return report_handler_failure(std::current_exception(), transport);
  }
  if (!task) return;
  transport->keep_task(*task);
  std::weak_ptr<FdTransport> weak_transport = transport;
  task->add_done_callback([self, weak_transport](FutureBase done) {
    if (done.cancelled()) return;
    auto error = done.exception();
    auto server = self.lock();
    if (error && server) server->report_handler_failure(error, weak_transport.lock());
  });
}

void ServerCore::report_handler_failure(std::exception_ptr error, const std::shared_ptr<FdTransport>& transport) {
  loop_->call_exception_handler({"Unhandled exception in client_connected_cb", error, {}, false});
  if (transport) transport->close();
}

void ServerCore::detach(FdTransport* transport) {
  clients_.erase(transport);
  wake_if_done();
}

void ServerCore::wake_if_done() {
  if (!closed_ || !clients_.empty()) return;
  wake_all(closed_waiters_, nullptr);
}

void ServerCore::pause_serving() {
  if (!serving_) return;
  serving_ = false;
  for (const auto& listener : listeners_) loop_->remove_reader(listener.fd);
}

void ServerCore::close() {
  if (closed_) return;
  closed_ = true;
  close_listeners();
  if (serving_forever_ && !serving_forever_->done()) serving_forever_->cancel();
  wake_if_done();
}

void ServerCore::close_listeners() {
  serving_ = false;
  for (const auto& listener : listeners_) {
    core_->unwatch_fd(listener.fd, true);
    ::close(listener.fd);
    if (!listener.unix_path.empty()) ::unlink(listener.unix_path.c_str());
  }
  listeners_.clear();
}

void ServerCore::close_clients(bool abort) {
  std::vector<std::shared_ptr<FdTransport>> live;
  for (auto& [key, weak] : clients_) {
    if (auto transport = weak.lock()) live.push_back(std::move(transport));
  }
  for (auto& transport : live) {
    if (abort) {
      transport->abort();
    } else {
      transport->close();
    }
  }
}

std::vector<SocketAddress> ServerCore::sockets() const {
  std::vector<SocketAddress> addresses;
  for (const auto& listener : listeners_) {
    // A listening socket's sockname, through the one address decoder transports use.
    sockaddr_storage storage{};
    socklen_t length = sizeof storage;
    ::getsockname(listener.fd, reinterpret_cast<sockaddr*>(&storage), &length);
    addresses.push_back(decode_address(storage, length));
  }
  return addresses;
}

std::string ServerCore::repr() const {
  std::string text = "<Server sockets=(";
  for (const auto& address : sockets()) text += to_string(address) + ", ";
  return text + ")>";
}

Coroutine<void> ServerCore::wait_closed(std::shared_ptr<ServerCore>) {
  if (closed_ && clients_.empty()) co_return;
  Future<void> waiter(*loop_);
  closed_waiters_.push_back(waiter);
  co_await waiter;
}

Coroutine<void> ServerCore::serve_forever(std::shared_ptr<ServerCore> keep_alive) {
  if (serving_forever_) throw RuntimeError("server " + repr() + " is already being awaited on serve_forever()");
  if (closed_) throw RuntimeError("server " + repr() + " is closed");
  start_serving();
  serving_forever_.emplace(*loop_);
  std::exception_ptr cancelled;
  try {
    co_await *serving_forever_;
  } catch (const CancelledError&) {
    cancelled = std::current_exception();
  }
  serving_forever_.reset();
  close();
  if (cancelled) {
    std::exception_ptr failure;
    try {
      co_await wait_closed(keep_alive);
    } catch (...) {
      failure = std::current_exception();
    }
    std::rethrow_exception(failure ? failure : cancelled);
  }
}

Coroutine<std::shared_ptr<ServerCore>> start_tcp_server(ClientConnected handler, std::string host, int port,
                                                        ServerOptions options) {
  auto server = std::make_shared<ServerCore>(get_running_loop(), std::move(handler), options);
  if (options.sock) {
    if (!host.empty() || port != 0) throw ValueError("host/port and sock can not be specified at the same time");
    server->adopt(*options.sock);
  } else {
    auto endpoints = co_await resolve(host, port, true);
    for (const auto& endpoint : endpoints) server->listen_on(endpoint, {});
  }
  if (options.start_serving) server->start_serving();
  co_return server;
}

Coroutine<std::shared_ptr<ServerCore>> start_unix_server(ClientConnected handler, std::string path,
                                                         ServerOptions options) {
  auto server = std::make_shared<ServerCore>(get_running_loop(), std::move(handler), options);
  if (options.sock) {
    if (!path.empty()) throw ValueError("path and sock can not be specified at the same time");
    server->adopt(*options.sock);
    if (options.start_serving) server->start_serving();
    co_return server;
  }
  // Python removes a socket left behind by an earlier server at the same path.
  struct stat status {};
  if (::stat(path.c_str(), &status) == 0 && S_ISSOCK(status.st_mode)) ::unlink(path.c_str());
  server->listen_on(unix_endpoint(path), path);
  if (options.start_serving) server->start_serving();
  co_return server;
}

}  // namespace pyconc::asyncio::detail

namespace pyconc::asyncio {

Server::Server(std::shared_ptr<detail::ServerCore> core) : core_(std::move(core)) {}
void Server::close() const { core_->close(); }
void Server::close_clients() const { core_->close_clients(false); }
void Server::abort_clients() const { core_->close_clients(true); }
bool Server::is_serving() const { return core_->is_serving(); }
void Server::pause_serving() const { core_->pause_serving(); }
void Server::resume_serving() const { core_->start_serving(); }
std::vector<SocketAddress> Server::sockets() const { return core_->sockets(); }
EventLoop& Server::get_loop() const { return core_->loop(); }
Coroutine<void> Server::wait_closed() const { return core_->wait_closed(core_); }
Coroutine<void> Server::serve_forever() const { return core_->serve_forever(core_); }

namespace {
Coroutine<void> start_serving_of(std::shared_ptr<detail::ServerCore> core) {
  core->start_serving();
  co_await sleep(std::chrono::duration<double>(0));  // as Python's: one iteration to begin
}
}  // namespace

Coroutine<void> Server::start_serving() const { return start_serving_of(core_); }

}  // namespace pyconc::asyncio
