// pyconc::multiprocessing::Pipe and Connection — Python's multiprocessing.Pipe() and
// multiprocessing.connection.Connection / wait().
//
// Pipe() returns two connected Connections (duplex: both ends send and receive;
// duplex=false: the first only receives, the second only sends). send/recv carry any
// pickle::Picklable value; send_bytes/recv_bytes carry raw bytes. Message boundaries are
// kept (an empty message is a message); recv blocks for the next one and raises EOFError
// once the other end has closed and nothing is left. As in Python, a duplex Pipe's ends are
// a Unix stream socket pair and a one-way Pipe is a pipe. A peer that has gone is a
// BrokenPipeError, never SIGPIPE (sockets are written with MSG_NOSIGNAL; a pipe with SIGPIPE
// blocked in the writing thread, and the signal of a failed write taken back).
//
// A Connection is a handle: copies share the descriptor, which is closed by close() or when
// the last handle goes (Python closes on garbage collection). It crosses to a child given
// as a Process argument (fork inherits it; spawn and forkserver pass the descriptor).
// Concurrent sends from several threads never interleave one message with another, nor do
// concurrent receives split one.
//
//   auto [parent_end, child_end] = pyconc::multiprocessing::Pipe();
//   pyconc::multiprocessing::Process p(worker, child_end);   // void worker(Connection c)
//   p.start();
//   auto answer = parent_end.recv<std::string>();
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pyconc/multiprocessing/errors.hpp"
#include "pyconc/multiprocessing/fd_passing.hpp"
#include "pyconc/pickle.hpp"
#include "pyconc/timeout.hpp"

namespace pyconc::multiprocessing {

namespace detail {
struct ConnectionState;
}

class Connection {
 public:
  Connection() = default;  // not connected: every operation raises OSError
  // Takes ownership of a connected stream socket.
  Connection(int fd, bool readable, bool writable);

  template <class T>
  void send(const T& value) {
    send_bytes(pickle::dumps(value));
  }
  template <class T>
  T recv() {
    return pickle::loads<T>(recv_bytes());
  }

  // Sends bytes [offset, offset + size) of `data` (size npos: to the end) as one message;
  // an offset or size outside `data` is a ValueError.
  void send_bytes(std::string_view data, std::size_t offset = 0, std::size_t size = npos);
  // The next message; OSError if it is longer than max_length (the connection is then
  // closed, as in Python).
  std::string recv_bytes(std::size_t max_length = npos);
  // Reads the next message into buffer[offset..]; returns its size. A buffer too small
  // raises BufferTooShort, which carries the whole message.
  std::size_t recv_bytes_into(std::span<char> buffer, std::size_t offset = 0);
  // Whether a message (or the end of the stream) is there to read, waiting up to `timeout`
  // (0 by default, as Python's poll(); a negative timeout is 0; forever waits).
  bool poll(Timeout timeout = std::chrono::seconds(0));

  void close();
  bool closed() const;
  bool readable() const;
  bool writable() const;
  int fileno() const;

  friend bool operator==(const Connection& a, const Connection& b) { return a.state_ == b.state_; }

  // Crossing to a spawned child (see fd_passing.hpp).
  template <class Archive>
  void save(Archive& archive) const {
    archive(detail::export_fd(fileno()), readable(), writable());
  }
  template <class Archive>
  void load(Archive& archive) {
    std::uint32_t index = 0;
    bool can_read = false, can_write = false;
    archive(index, can_read, can_write);
    *this = adopt_passed(detail::import_fd(index), can_read, can_write);
  }

  static constexpr std::size_t npos = static_cast<std::size_t>(-1);

 private:
  static Connection adopt_passed(int fd, bool readable, bool writable);
  detail::ConnectionState& open_state(bool for_reading, bool for_writing) const;
  std::shared_ptr<detail::ConnectionState> state_;
};

// Python's Pipe(duplex=True): (conn1, conn2). With duplex=false, conn1 only receives and
// conn2 only sends.
std::pair<Connection, Connection> Pipe(bool duplex = true);

namespace connection {
// Python's multiprocessing.connection.wait: the connections that are ready to read (a
// message or end of stream), waiting up to `timeout` for at least one; a negative timeout
// does not wait. The descriptor form takes sentinels (Process::sentinel()).
std::vector<Connection> wait(const std::vector<Connection>& objects, Timeout timeout = forever);
std::vector<int> wait(const std::vector<int>& fds, Timeout timeout = forever);
}  // namespace connection

}  // namespace pyconc::multiprocessing
