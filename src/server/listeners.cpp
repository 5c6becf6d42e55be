// open_listeners (listeners.hpp), on asyncio's one resolver and listening-socket maker.
#include "listeners.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <sstream>

#include "asyncio/sockets.hpp"
#include "pyconc/asyncio/runners.hpp"
#include "pyconc/errors.hpp"

namespace pyconc::server::detail {

namespace {

std::string url_of(int fd) {
  sockaddr_storage storage{};
  socklen_t length = sizeof storage;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&storage), &length);
  const auto address = asyncio::detail::decode_address(storage, length);
  if (address.is_unix()) return "unix:" + address.path;
  const bool v6 = address.host.find(':') != std::string::npos;
  return "http://" + (v6 ? "[" + address.host + "]" : address.host) + ":" + std::to_string(address.port);
}

// "HOST:PORT", "[V6]:PORT", ":PORT" (every interface), "HOST" (port 8000), as Gunicorn.
std::pair<std::string, int> host_and_port(const std::string& address) {
  std::string host = address;
  int port = 8000;
  const std::size_t colon = address.rfind(':');
  const bool bracketed = !address.empty() && address.front() == '[';
  if (colon != std::string::npos && (!bracketed || colon > address.find(']'))) {
    host = address.substr(0, colon);
    const std::string digits = address.substr(colon + 1);
    char* end = nullptr;
    const long value = std::strtol(digits.c_str(), &end, 10);
    if (digits.empty() || *end != '\0' || value < 0 || value > 65535) {
      throw ValueError("'" + address + "' is not a valid port number.");
    }
    port = static_cast<int>(value);
  }
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  return {host, port};
}

std::vector<Listener> inherited(const char* fds) {
  std::vector<Listener> listeners;
  std::stringstream list(fds);
  for (std::string item; std::getline(list, item, ',');) {
    const int fd = std::atoi(item.c_str());
    ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    listeners.push_back({fd, {}, url_of(fd)});
  }
  ::unsetenv(inherited_fds_variable);
  return listeners;
}

}  // namespace

std::vector<Listener> open_listeners(const std::vector<std::string>& bind, int backlog) {
  if (const char* fds = std::getenv(inherited_fds_variable)) return inherited(fds);
  if (bind.empty()) throw ValueError("nothing to bind: give at least one address");
  std::vector<Listener> listeners;
  try {
    for (const auto& address : bind) {
      if (address.rfind("unix:", 0) == 0) {
        const std::string path = address.substr(5);
        struct stat status {};
        if (::stat(path.c_str(), &status) == 0 && S_ISSOCK(status.st_mode)) ::unlink(path.c_str());
        const int fd = asyncio::detail::listening_socket(asyncio::detail::unix_endpoint(path), backlog, false, false);
        listeners.push_back({fd, path, "unix:" + path});
        continue;
      }
      auto [host, port] = host_and_port(address);
      auto endpoints = asyncio::run(asyncio::detail::resolve(host, port, true));
      for (const auto& endpoint : endpoints) {
        const int fd = asyncio::detail::listening_socket(endpoint, backlog, true, false);
        listeners.push_back({fd, {}, url_of(fd)});
      }
    }
  } catch (...) {
    close_listeners(listeners, true);
    throw;
  }
  return listeners;
}

void close_listeners(std::vector<Listener>& listeners, bool unlink_paths) {
  for (auto& listener : listeners) {
    ::close(listener.fd);
    if (unlink_paths && !listener.unix_path.empty()) ::unlink(listener.unix_path.c_str());
  }
  listeners.clear();
}

}  // namespace pyconc::server::detail
