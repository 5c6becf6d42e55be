// pyconc::multiprocessing::connection::Listener and Client — Python's
// multiprocessing.connection.Listener / Client, with its authentication handshake.
//
// A Listener binds an address — a Unix socket path (std::string; a fresh one in /tmp when
// none is given) or a TCP (host, port) pair (port 0 picks a free port; address() says
// which) — and accept() returns a Connection. Client(address) connects to one. With an
// authkey, both sides prove they know it before any message, as Python's do: each sends the
// other a random challenge and checks the answer, an HMAC-SHA256 of the challenge keyed by
// the authkey (OpenSSL's HMAC; compared in constant time). A wrong key is an
// AuthenticationError on both sides ("digest received was wrong" where it was checked,
// "digest sent was rejected" where it was sent); the Listener goes on accepting. The
// handshake is Python's in shape, not byte for byte: the framing is pyconc's.
//
//   namespace conn = pyconc::multiprocessing::connection;
//   conn::Listener listener(conn::Address{std::pair{"127.0.0.1", 0}}, 1, "secret");
//   // elsewhere: auto c = conn::Client(listener.address(), "secret"); c.send(42);
//   auto peer = listener.accept();
//   int x = peer.recv<int>();
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "pyconc/multiprocessing/connection.hpp"

namespace pyconc::multiprocessing::connection {

// Python's address: a Unix socket path ('AF_UNIX'), or (host, port) ('AF_INET').
using Address = std::variant<std::string, std::pair<std::string, int>>;
std::string to_string(const Address& address);

class Listener {
 public:
  explicit Listener(std::optional<Address> address = std::nullopt, int backlog = 1,
                    std::optional<std::string> authkey = std::nullopt);
  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  // The next connection; with an authkey, only once the handshake succeeded
  // (AuthenticationError otherwise: that connection is closed, the listener stays open).
  Connection accept();
  // Stops listening and removes a Unix socket's path. Idempotent.
  void close();
  const Address& address() const { return address_; }
  // The listening descriptor (for connection::wait and poll).
  int fileno() const { return fd_; }

 private:
  Address address_;
  std::optional<std::string> authkey_;
  int fd_ = -1;
};

// Connects to a Listener; with an authkey, runs the handshake (AuthenticationError when the
// keys differ). A listener that is not there is ConnectionRefusedError or FileNotFoundError.
Connection Client(const Address& address, const std::optional<std::string>& authkey = std::nullopt);

// The two halves of the handshake (Python's deliver_challenge / answer_challenge): the
// side that delivers checks the other's answer.
void deliver_challenge(Connection& connection, const std::string& authkey);
void answer_challenge(Connection& connection, const std::string& authkey);

}  // namespace pyconc::multiprocessing::connection
