// Internal: the socket plumbing under open_connection and start_server — name resolution
// (numeric addresses at once, names in the default executor, as Python's loop.getaddrinfo),
// a non-blocking connect awaited on the loop, and listening sockets.
#pragma once

#include <sys/socket.h>

#include <string>
#include <vector>

#include "pyconc/asyncio/coroutine.hpp"
#include "pyconc/asyncio/transports.hpp"

namespace pyconc::asyncio::detail {

struct Endpoint {
  int family = AF_UNSPEC;
  sockaddr_storage address{};
  socklen_t length = 0;
};

// Python's getaddrinfo(host, port, type=SOCK_STREAM): `passive` with an empty host gives the
// wildcard addresses a server binds. OSError (socket.gaierror's message) when nothing resolves.
Coroutine<std::vector<Endpoint>> resolve(std::string host, int port, bool passive);
Endpoint unix_endpoint(const std::string& path);
// A connected non-blocking socket to `endpoint` (the descriptor); OSError when refused.
Coroutine<int> connect_socket(Endpoint endpoint);
// A socket address as Python reports it: (host, port) for IPv4/IPv6, the path for Unix.
SocketAddress decode_address(const sockaddr_storage& storage, socklen_t length);
// A non-blocking socket bound to `endpoint` and listening.
int listening_socket(const Endpoint& endpoint, int backlog, bool reuse_address, bool reuse_port);

}  // namespace pyconc::asyncio::detail
