// The arbiter's listening sockets: Gunicorn's bind syntax ("HOST:PORT", "[::1]:PORT",
// "unix:PATH"), or the descriptors a USR2 upgrade passed down (PYCONC_SERVE_FDS).
#pragma once

#include <string>
#include <vector>

namespace pyconc::server::detail {

struct Listener {
  int fd = -1;
  std::string unix_path;  // removed when the arbiter stops for good
  std::string url;        // "http://127.0.0.1:8000", "unix:/tmp/app.sock"
};

// The environment variable a re-executed arbiter finds its inherited sockets in.
inline constexpr const char* inherited_fds_variable = "PYCONC_SERVE_FDS";

// Binds every address of `bind` (OSError when one cannot be bound), or adopts the inherited
// sockets when the environment names them.
std::vector<Listener> open_listeners(const std::vector<std::string>& bind, int backlog);
void close_listeners(std::vector<Listener>& listeners, bool unlink_paths);

}  // namespace pyconc::server::detail
