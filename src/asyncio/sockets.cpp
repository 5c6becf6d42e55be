// Socket plumbing for streams, after CPython 3.13's base_events (create_connection,
// create_server) and selector_events (sock_connect).
#include "sockets.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <optional>

#include "pyconc/asyncio/threads.hpp"
#include "loop_core.hpp"

namespace pyconc::asyncio {

std::string to_string(const SocketAddress& address) {
  if (address.is_unix()) return "'" + address.path + "'";
  return "('" + address.host + "', " + std::to_string(address.port) + ")";
}

}  // namespace pyconc::asyncio

namespace pyconc::asyncio::detail {

namespace {

struct Lookup {
  int status = 0;  // getaddrinfo's: 0 or EAI_*
  std::vector<Endpoint> endpoints;
};

Lookup lookup(const std::string& host, int port, bool passive, bool numeric_only) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = (passive ? AI_PASSIVE : 0) | (numeric_only ? AI_NUMERICHOST : 0) | AI_NUMERICSERV;
  const std::string service = std::to_string(port);
  addrinfo* found = nullptr;
  Lookup result;
  result.status = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &found);
  if (result.status != 0) return result;
  for (addrinfo* at = found; at; at = at->ai_next) {
    Endpoint endpoint;
    endpoint.family = at->ai_family;
    endpoint.length = at->ai_addrlen;
    std::memcpy(&endpoint.address, at->ai_addr, at->ai_addrlen);
    result.endpoints.push_back(endpoint);
  }
  ::freeaddrinfo(found);
  return result;
}

std::vector<Endpoint> checked(const Lookup& found, const std::string& host) {
  if (found.status != 0) throw OSError("[Errno " + std::to_string(found.status) + "] " + ::gai_strerror(found.status) + ": '" + host + "'");
  if (found.endpoints.empty()) throw OSError("getaddrinfo() returned empty list");
  return found.endpoints;
}

}  // namespace

Coroutine<std::vector<Endpoint>> resolve(std::string host, int port, bool passive) {
  if (port < 0 || port > 65535) throw OverflowError("port must be 0-65535.");
  Lookup numeric = lookup(host, port, passive, true);
  if (numeric.status != EAI_NONAME) co_return checked(numeric, host);
  // A name: the resolver may block for seconds, so it runs off the loop.
  // Named, not a temporary: GCC 12 copies a lambda temporary of a co_await expression bitwise.
  auto by_name = [host, port, passive] { return lookup(host, port, passive, false); };
  Lookup named = co_await to_thread(std::move(by_name));
  co_return checked(named, host);
}

SocketAddress decode_address(const sockaddr_storage& storage, socklen_t length) {
  SocketAddress address;
  char text[INET6_ADDRSTRLEN] = {};
  if (storage.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&storage);
    address.host = ::inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
    address.port = ntohs(in->sin_port);
  } else if (storage.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&storage);
    address.host = ::inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
    address.port = ntohs(in6->sin6_port);
  } else if (storage.ss_family == AF_UNIX) {
    const auto* un = reinterpret_cast<const sockaddr_un*>(&storage);
    const std::size_t offset = offsetof(sockaddr_un, sun_path);
    if (length > offset) address.path.assign(un->sun_path, ::strnlen(un->sun_path, length - offset));
  }
  return address;
}

Endpoint unix_endpoint(const std::string& path) {
  Endpoint endpoint;
  endpoint.family = AF_UNIX;
  sockaddr_un where{};
  where.sun_family = AF_UNIX;
  if (path.size() >= sizeof where.sun_path) throw ValueError("AF_UNIX path too long");
  std::memcpy(where.sun_path, path.c_str(), path.size() + 1);
  std::memcpy(&endpoint.address, &where, sizeof where);
  endpoint.length = sizeof where;
  return endpoint;
}

namespace {

int stream_socket(int family) {
  const int fd = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) raise_os_error(errno, "socket");
  return fd;
}

// Waits until the connect in progress on `fd` has finished; its outcome is SO_ERROR.
Coroutine<void> connect_finished(int fd) {
  EventLoop& loop = get_running_loop();
  Future<void> writable(loop);
  loop.add_writer(fd, [writable] {
    if (!writable.done()) writable.set_result();
  });
  std::exception_ptr failure;
  try {
    co_await writable;
  } catch (...) {
    failure = std::current_exception();  // cancelled: stop watching all the same
  }
  loop.remove_writer(fd);
  if (failure) std::rethrow_exception(failure);
}

}  // namespace

Coroutine<int> connect_socket(Endpoint endpoint) {
  const int fd = stream_socket(endpoint.family);
  std::exception_ptr failure;
  try {
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&endpoint.address), endpoint.length) != 0) {
      if (errno != EINPROGRESS && errno != EINTR) raise_os_error(errno, "Connect call failed");
      co_await connect_finished(fd);
      int error = 0;
      socklen_t length = sizeof error;
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length);
      if (error != 0) raise_os_error(error, "Connect call failed");
    }
  } catch (...) {
    failure = std::current_exception();
  }
  if (failure) {
    ::close(fd);
    std::rethrow_exception(failure);
  }
  if (endpoint.family != AF_UNIX) {
    const int on = 1;  // Python sets TCP_NODELAY on every TCP transport
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  }
  co_return fd;
}

int listening_socket(const Endpoint& endpoint, int backlog, bool reuse_address, bool reuse_port) {
  const int fd = stream_socket(endpoint.family);
  const int on = 1;
  if (reuse_address && endpoint.family != AF_UNIX) ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  if (reuse_port) ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on);
  // Python: an IPv6 socket listens on IPv6 only, so that it can sit beside the IPv4 one.
  if (endpoint.family == AF_INET6) ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&endpoint.address), endpoint.length) != 0 ||
      ::listen(fd, backlog) != 0) {
    const int error = errno;
    ::close(fd);
    raise_os_error(error, "error while attempting to bind on address");
  }
  return fd;
}

}  // namespace pyconc::asyncio::detail
