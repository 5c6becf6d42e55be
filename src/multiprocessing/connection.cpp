// Pipe and Connection: length-prefixed messages over a Unix stream socket (duplex) or a
// pipe (one way).
//
// Framing: a 4-byte native-endian length, then the bytes; a message of 4 GiB or more is sent
// as 0xFFFFFFFF and an 8-byte length (Python's framing, in the machine's byte order: both
// ends are processes of one program on one machine).
#include "pyconc/multiprocessing/connection.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <optional>

#include "popen.hpp"

namespace pyconc::multiprocessing {

namespace detail {

struct ConnectionState {
  int fd = -1;
  bool readable = false;
  bool writable = false;
  bool socket = false;  // else a pipe (Pipe(duplex=false), as in Python)
  std::mutex send_lock;  // one message at a time in each direction
  std::mutex recv_lock;
  mutable std::mutex close_lock;

  ~ConnectionState() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace detail

namespace {

constexpr std::uint32_t kLongMessage = 0xFFFFFFFFu;

[[noreturn]] void throw_os_error(const char* what) {
  if (errno == EPIPE || errno == ECONNRESET) throw BrokenPipeError(std::string(what) + ": " + std::strerror(errno));
  throw OSError(std::string(what) + ": " + std::strerror(errno));
}

// A pipe has no MSG_NOSIGNAL: while this thread writes to one, SIGPIPE is blocked, and the
// one a write to a pipe without a reader raises is taken back before it is unblocked, so
// the writer gets EPIPE (BrokenPipeError) and nothing else in the process sees a signal.
// Two sigprocmask calls per message: pipes still cost a third of what a socket's sendmsg
// costs (no buffer allocated per message in the kernel).
class SigpipeBlocked {
 public:
  SigpipeBlocked() {
    sigemptyset(&sigpipe_);
    sigaddset(&sigpipe_, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &sigpipe_, &previous_);
    already_blocked_ = sigismember(&previous_, SIGPIPE) == 1;
    if (already_blocked_) {
      // One may be pending already (someone else's): ours is not to be taken back then.
      sigset_t pending;
      sigpending(&pending);
      already_pending_ = sigismember(&pending, SIGPIPE) == 1;
    }
  }
  ~SigpipeBlocked() {
    if (!already_blocked_) pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
  }
  SigpipeBlocked(const SigpipeBlocked&) = delete;
  SigpipeBlocked& operator=(const SigpipeBlocked&) = delete;
  // After EPIPE: takes back the SIGPIPE the failed write raised.
  void take_back_signal() {
    if (already_pending_) return;
    const timespec no_wait{0, 0};
    while (sigtimedwait(&sigpipe_, nullptr, &no_wait) < 0 && errno == EINTR) {
    }
  }

 private:
  sigset_t sigpipe_;
  sigset_t previous_;
  bool already_blocked_ = false;
  bool already_pending_ = false;
};

// Writes all of parts[0..count) (count <= 3). Sockets: sendmsg with MSG_NOSIGNAL; pipes:
// writev with SIGPIPE blocked.
void write_all(int fd, bool socket, const iovec* parts, int count) {
  iovec left[3];
  std::copy(parts, parts + count, left);
  int first = 0;
  std::optional<SigpipeBlocked> blocked;
  if (!socket) blocked.emplace();
  while (first < count) {
    ssize_t n;
    if (socket) {
      msghdr message{};
      message.msg_iov = left + first;
      message.msg_iovlen = static_cast<std::size_t>(count - first);
      n = ::sendmsg(fd, &message, MSG_NOSIGNAL);
    } else {
      n = ::writev(fd, left + first, count - first);
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EPIPE && blocked) {
        blocked->take_back_signal();
        errno = EPIPE;
      }
      throw_os_error("send");
    }
    auto sent = static_cast<std::size_t>(n);
    while (first < count && sent >= left[first].iov_len) sent -= left[first++].iov_len;
    if (first < count) {
      left[first].iov_base = static_cast<char*>(left[first].iov_base) + sent;
      left[first].iov_len -= sent;
    }
  }
}

// Reads exactly `size` bytes; false if the stream ended before the first byte.
bool read_exactly(int fd, void* into, std::size_t size, bool at_message_start) {
  auto* out = static_cast<char*>(into);
  std::size_t got = 0;
  while (got < size) {
    const ssize_t n = ::read(fd, out + got, size - got);  // a socket or a pipe
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_os_error("recv");
    }
    if (n == 0) {
      if (got == 0 && at_message_start) return false;
      throw OSError("got end of file during message");
    }
    got += static_cast<std::size_t>(n);
  }
  return true;
}

std::uint64_t read_length(int fd) {
  std::uint32_t short_length = 0;
  if (!read_exactly(fd, &short_length, sizeof short_length, true)) throw EOFError("");
  if (short_length != kLongMessage) return short_length;
  std::uint64_t length = 0;
  read_exactly(fd, &length, sizeof length, false);
  return length;
}

int poll_timeout_ms(const Deadline& deadline) {
  if (deadline.is_never()) return -1;
  const auto left = deadline.remaining();
  return static_cast<int>(std::min<std::int64_t>((left.count() + 999'999) / 1'000'000, 1 << 30));
}

Deadline wait_deadline(const Timeout& timeout) {
  if (timeout.is_forever()) return Deadline::never();
  if (timeout.negative()) return Deadline::now();
  return timeout.deadline();
}

}  // namespace

Connection::Connection(int fd, bool readable, bool writable) : state_(std::make_shared<detail::ConnectionState>()) {
  state_->fd = fd;
  state_->readable = readable;
  state_->writable = writable;
  struct stat status {};
  state_->socket = ::fstat(fd, &status) == 0 && S_ISSOCK(status.st_mode);
}

Connection Connection::adopt_passed(int fd, bool readable, bool writable) { return Connection(fd, readable, writable); }

detail::ConnectionState& Connection::open_state(bool for_reading, bool for_writing) const {
  if (!state_) throw OSError("handle is closed");
  std::scoped_lock hold(state_->close_lock);
  if (state_->fd < 0) throw OSError("handle is closed");
  if (for_reading && !state_->readable) throw OSError("connection is write-only");
  if (for_writing && !state_->writable) throw OSError("connection is read-only");
  return *state_;
}

void Connection::send_bytes(std::string_view data, std::size_t offset, std::size_t size) {
  if (offset > data.size()) throw ValueError("offset is out of bounds");
  if (size == npos) size = data.size() - offset;
  if (size > data.size() - offset) throw ValueError("buffer length < offset + size");
  auto& s = open_state(false, true);
  std::uint32_t short_length = size >= kLongMessage ? kLongMessage : static_cast<std::uint32_t>(size);
  std::uint64_t long_length = size;
  iovec parts[3] = {{&short_length, sizeof short_length},
                    {&long_length, sizeof long_length},
                    {const_cast<char*>(data.data() + offset), size}};
  std::scoped_lock hold(s.send_lock);
  if (short_length == kLongMessage) {
    write_all(s.fd, s.socket, parts, 3);
  } else {
    parts[1] = parts[2];
    write_all(s.fd, s.socket, parts, size ? 2 : 1);
  }
}

std::string Connection::recv_bytes(std::size_t max_length) {
  auto& s = open_state(true, false);
  std::scoped_lock hold(s.recv_lock);
  const std::uint64_t length = read_length(s.fd);
  if (length > max_length) {
    close();
    throw OSError("bad message length");
  }
  std::string message(length, '\0');
  read_exactly(s.fd, message.data(), message.size(), false);
  return message;
}

std::size_t Connection::recv_bytes_into(std::span<char> buffer, std::size_t offset) {
  if (offset > buffer.size()) throw ValueError("offset too large");
  auto& s = open_state(true, false);
  std::scoped_lock hold(s.recv_lock);
  const std::uint64_t length = read_length(s.fd);
  if (length > buffer.size() - offset) {
    std::string whole(length, '\0');
    read_exactly(s.fd, whole.data(), whole.size(), false);
    throw BufferTooShort(std::move(whole));
  }
  read_exactly(s.fd, buffer.data() + offset, length, false);
  return length;
}

bool Connection::poll(Timeout timeout) {
  auto& s = open_state(true, false);
  return detail::wait_readable(s.fd, wait_deadline(timeout));
}

void Connection::close() {
  if (!state_) return;
  std::scoped_lock hold(state_->close_lock);
  if (state_->fd >= 0) ::close(state_->fd);
  state_->fd = -1;
}

bool Connection::closed() const {
  if (!state_) return true;
  std::scoped_lock hold(state_->close_lock);
  return state_->fd < 0;
}
bool Connection::readable() const { return state_ && state_->readable; }
bool Connection::writable() const { return state_ && state_->writable; }
int Connection::fileno() const { return open_state(false, false).fd; }

std::pair<Connection, Connection> Pipe(bool duplex) {
  int fds[2];
  if (duplex) {
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0) throw_os_error("socketpair");
    return {Connection(fds[0], true, true), Connection(fds[1], true, true)};
  }
  // One way is a pipe, as in Python: several times cheaper per message than a socket.
  if (::pipe2(fds, O_CLOEXEC) < 0) throw_os_error("pipe");
  return {Connection(fds[0], true, false), Connection(fds[1], false, true)};
}

namespace connection {

std::vector<int> wait(const std::vector<int>& fds, Timeout timeout) {
  const Deadline deadline = wait_deadline(timeout);
  std::vector<pollfd> watched;
  for (int fd : fds) watched.push_back({fd, POLLIN, 0});
  for (;;) {
    const int n = ::poll(watched.data(), watched.size(), poll_timeout_ms(deadline));
    if (n < 0 && errno != EINTR) throw_os_error("poll");
    if (n > 0) break;
    if (!deadline.is_never() && deadline.expired()) break;
  }
  std::vector<int> ready;
  for (const auto& w : watched)
    if (w.revents) ready.push_back(w.fd);
  return ready;
}

std::vector<Connection> wait(const std::vector<Connection>& objects, Timeout timeout) {
  std::vector<int> fds;
  for (const auto& c : objects) fds.push_back(c.fileno());
  const auto ready = wait(fds, timeout);
  std::vector<Connection> result;
  for (std::size_t i = 0; i < objects.size(); ++i)
    if (std::find(ready.begin(), ready.end(), fds[i]) != ready.end()) result.push_back(objects[i]);
  return result;
}

}  // namespace connection

}  // namespace pyconc::multiprocessing
