// Python's multiprocessing.connection.Listener and Client, on Unix and TCP stream sockets.
#include "pyconc/multiprocessing/listener.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <random>

namespace pyconc::multiprocessing::connection {

namespace {

[[noreturn]] void throw_socket_error(const std::string& what, const Address& address) {
  raise_os_error(errno, what + " " + to_string(address));
}

// Python's arbitrary_address('AF_UNIX'): a fresh path in the temporary directory. The random
// part matters: a process killed while listening leaves its path behind, and a later
// process with the same pid would otherwise collide with it ("Address already in use").
std::string fresh_unix_path() {
  static std::atomic<unsigned> counter{0};
  static const unsigned salt = std::random_device{}();
  return "/tmp/pyconc-listener-" + std::to_string(::getpid()) + "-" + std::to_string(salt) + "-" +
         std::to_string(counter++);
}

sockaddr_un unix_address(const std::string& path) {
  sockaddr_un where{};
  where.sun_family = AF_UNIX;
  if (path.size() >= sizeof where.sun_path) throw ValueError("Unix socket path too long: " + path);
  std::memcpy(where.sun_path, path.c_str(), path.size() + 1);
  return where;
}

// The first IPv4 address of `host` (Python's AF_INET family).
sockaddr_in inet_address(const std::pair<std::string, int>& host_port) {
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const int rc = ::getaddrinfo(host_port.first.c_str(), nullptr, &hints, &found);
  if (rc != 0 || !found) throw OSError("cannot resolve " + host_port.first + ": " + ::gai_strerror(rc));
  sockaddr_in where = *reinterpret_cast<sockaddr_in*>(found->ai_addr);
  ::freeaddrinfo(found);
  where.sin_port = htons(static_cast<std::uint16_t>(host_port.second));
  return where;
}

int stream_socket(int family) {
  const int fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw OSError(std::string("socket: ") + std::strerror(errno));
  return fd;
}

}  // namespace

std::string to_string(const Address& address) {
  if (auto* path = std::get_if<std::string>(&address)) return "'" + *path + "'";
  const auto& [host, port] = std::get<std::pair<std::string, int>>(address);
  return "('" + host + "', " + std::to_string(port) + ")";
}

Listener::Listener(std::optional<Address> address, int backlog, std::optional<std::string> authkey)
    : address_(address ? *address : Address(fresh_unix_path())), authkey_(std::move(authkey)) {
  if (auto* path = std::get_if<std::string>(&address_)) {
    fd_ = stream_socket(AF_UNIX);
    const sockaddr_un where = unix_address(*path);
    if (::bind(fd_, reinterpret_cast<const sockaddr*>(&where), sizeof where) != 0) {
      ::close(fd_);
      throw_socket_error("bind", address_);
    }
  } else {
    auto& host_port = std::get<std::pair<std::string, int>>(address_);
    fd_ = stream_socket(AF_INET);
    const int on = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);  // as Python's SocketListener
    sockaddr_in where = inet_address(host_port);
    if (::bind(fd_, reinterpret_cast<const sockaddr*>(&where), sizeof where) != 0) {
      ::close(fd_);
      throw_socket_error("bind", address_);
    }
    socklen_t length = sizeof where;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&where), &length);
    host_port.second = ntohs(where.sin_port);  // port 0: the one the kernel chose
  }
  if (::listen(fd_, backlog) != 0) {
    const int error = errno;
    close();
    errno = error;
    throw_socket_error("listen", address_);
  }
}

Listener::~Listener() { close(); }

Connection Listener::accept() {
  if (fd_ < 0) throw OSError("the listener is closed");
  int peer;
  do {
    peer = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
  } while (peer < 0 && errno == EINTR);
  if (peer < 0) throw_socket_error("accept", address_);
  if (std::holds_alternative<std::pair<std::string, int>>(address_)) {
    const int on = 1;
    ::setsockopt(peer, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);  // messages, not a stream
  }
  Connection connection(peer, true, true);
  if (authkey_) {
    deliver_challenge(connection, *authkey_);
    answer_challenge(connection, *authkey_);
  }
  return connection;
}

void Listener::close() {
  if (fd_ < 0) return;
  ::close(fd_);
  fd_ = -1;
  if (auto* path = std::get_if<std::string>(&address_)) ::unlink(path->c_str());
}

Connection Client(const Address& address, const std::optional<std::string>& authkey) {
  int fd;
  if (auto* path = std::get_if<std::string>(&address)) {
    fd = stream_socket(AF_UNIX);
    const sockaddr_un where = unix_address(*path);
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&where), sizeof where) != 0) {
      const int error = errno;
      ::close(fd);
      errno = error;
      throw_socket_error("connect", address);
    }
  } else {
    fd = stream_socket(AF_INET);
    const sockaddr_in where = inet_address(std::get<std::pair<std::string, int>>(address));
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&where), sizeof where) != 0) {
      const int error = errno;
      ::close(fd);
      errno = error;
      throw_socket_error("connect", address);
    }
    const int on = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  }
  Connection connection(fd, true, true);
  if (authkey) {
    answer_challenge(connection, *authkey);
    deliver_challenge(connection, *authkey);
  }
  return connection;
}

}  // namespace pyconc::multiprocessing::connection
