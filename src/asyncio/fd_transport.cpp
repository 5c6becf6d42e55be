// The socket transport, after CPython 3.13's selector_events._SelectorSocketTransport and
// streams.StreamReaderProtocol / FlowControlMixin.
#include "fd_transport.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "loop_core.hpp"
#include "sockets.hpp"

namespace pyconc::asyncio {

namespace detail {

namespace {

// Python reads at most 256 KiB per event (max_size); one scratch buffer per loop thread.
constexpr std::size_t read_chunk = 256 * 1024;

std::exception_ptr os_error(int error, const std::string& what) {
  try {
    raise_os_error(error, what);
  } catch (...) {
    return std::current_exception();
  }
}

std::any socket_address(int fd, bool peer) {
  sockaddr_storage storage{};
  socklen_t length = sizeof storage;
  auto* where = reinterpret_cast<sockaddr*>(&storage);
  if ((peer ? ::getpeername(fd, where, &length) : ::getsockname(fd, where, &length)) != 0) return {};
  return decode_address(storage, length);
}

}  // namespace

std::shared_ptr<FdTransport> FdTransport::make(EventLoop& loop, int fd, Kind kind, std::optional<StreamReader> reader) {
  auto transport = std::make_shared<FdTransport>(loop, fd, kind, std::move(reader));
  transport->start_reading();
  return transport;
}

FdTransport::FdTransport(EventLoop& loop, int fd, Kind kind, std::optional<StreamReader> reader)
    : loop_(&loop), core_(loop.core_ptr()), fd_(fd), kind_(kind), reader_(std::move(reader)) {
  const int flags = ::fcntl(fd_, F_GETFL);
  ::fcntl(fd_, F_SETFL, flags | O_NONBLOCK);
  if (kind_ == Kind::connection) {
    sockname_ = socket_address(fd_, false);
    peername_ = socket_address(fd_, true);
  }
  if (reader_) reader_->set_transport(this);
}

// The last owner went without close(): the descriptor goes with it, as a Python socket
// object's does when it is collected.
FdTransport::~FdTransport() {
  if (reader_) reader_->set_transport(nullptr);
  if (fd_ < 0) return;
  if (reading_) core_->unwatch_fd(fd_, true);
  if (writing_watched_) core_->unwatch_fd(fd_, false);
  ::close(fd_);
  if (on_lost_) on_lost_();
}

void FdTransport::start_reading() {
  if (reading_ || closing_ || fd_ < 0) return;
  std::weak_ptr<FdTransport> self = weak_from_this();
  core_->watch_fd(fd_, true, [self] {
    if (auto transport = self.lock()) transport->on_readable();
  });
  reading_ = true;
}

void FdTransport::stop_watching(bool reading) {
  bool& watched = reading ? reading_ : writing_watched_;
  if (!watched) return;
  watched = false;
  core_->unwatch_fd(fd_, reading);
}

void FdTransport::pause_reading() {
  if (closing_ || read_paused_) return;
  read_paused_ = true;
  stop_watching(true);
}

void FdTransport::resume_reading() {
  if (closing_ || !read_paused_) return;
  read_paused_ = false;
  start_reading();
}

bool FdTransport::is_reading() const { return !read_paused_ && !closing_; }

void FdTransport::on_readable() {
  static thread_local std::unique_ptr<char[]> scratch(new char[read_chunk]);
  if (fd_ < 0 || lost_scheduled_) return;
  const ssize_t n = ::read(fd_, scratch.get(), read_chunk);
  if (n > 0) {
    if (kind_ == Kind::write_pipe) return;  // a child does not write to its stdin: ignore it
    if (reader_) reader_->feed_data(std::string_view(scratch.get(), static_cast<std::size_t>(n)));
    return;
  }
  if (n == 0) return on_input_eof();
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
  force_close(os_error(errno, "read"));
}

void FdTransport::on_input_eof() {
  stop_watching(true);
  if (kind_ == Kind::write_pipe) {
    // The child closed its stdin: what is still buffered can never be sent.
    if (get_write_buffer_size() > 0) return force_close(os_error(EPIPE, "write"));
    closing_ = true;
    return schedule_connection_lost(nullptr);
  }
  if (reader_) reader_->feed_eof();
  if (kind_ == Kind::read_pipe) {
    closing_ = true;
    schedule_connection_lost(nullptr);
  }
  // A connection keeps its write side (Python's eof_received returning True).
}

void FdTransport::write(std::string_view data) {
  if (eof_requested_) throw RuntimeError("Cannot call write() after write_eof()");
  if (data.empty()) return;
  if (lost_scheduled_ || fd_ < 0) {
    ++writes_after_loss_;  // Python logs "socket.send() raised exception." from the 5th on
    return;
  }
  const bool was_empty = get_write_buffer_size() == 0;
  buffer_.append(data);
  if (was_empty) {
    if (!flush()) return;
    if (get_write_buffer_size() == 0) return;
    std::weak_ptr<FdTransport> self = weak_from_this();
    core_->watch_fd(fd_, false, [self] {
      if (auto transport = self.lock()) transport->on_writable();
    });
    writing_watched_ = true;
  }
  maybe_pause_writing();
}

bool FdTransport::flush() {
  while (sent_ < buffer_.size()) {
    const ssize_t n = ::send(fd_, buffer_.data() + sent_, buffer_.size() - sent_, MSG_NOSIGNAL);
    if (n >= 0) {
      sent_ += static_cast<std::size_t>(n);
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) break;
    force_close(os_error(errno, "send"));
    return false;
  }
  if (sent_ == buffer_.size()) {
    buffer_.clear();
    sent_ = 0;
  } else if (sent_ > buffer_.size() / 2) {
    buffer_.erase(0, sent_);  // amortised: the sent prefix goes once it is the larger half
    sent_ = 0;
  }
  return true;
}

void FdTransport::on_writable() {
  if (fd_ < 0 || lost_) return;
  if (!flush()) return;
  maybe_resume_writing();
  if (get_write_buffer_size() > 0) return;
  stop_watching(false);
  if (closing_) {
    schedule_connection_lost(nullptr);
  } else if (eof_requested_ && !eof_written_) {
    eof_written_ = true;
    ::shutdown(fd_, SHUT_WR);
  }
}

void FdTransport::write_eof() {
  if (closing_ || eof_requested_) return;
  eof_requested_ = true;
  if (get_write_buffer_size() == 0) {
    eof_written_ = true;
    ::shutdown(fd_, SHUT_WR);
  }
}

void FdTransport::close() {
  if (closing_) return;
  closing_ = true;
  stop_watching(true);
  if (get_write_buffer_size() == 0) schedule_connection_lost(nullptr);
}

void FdTransport::abort() { force_close(nullptr); }

void FdTransport::force_close(std::exception_ptr error) {
  if (lost_scheduled_) return;
  buffer_.clear();
  sent_ = 0;
  stop_watching(false);
  closing_ = true;
  stop_watching(true);
  schedule_connection_lost(error);
}

void FdTransport::schedule_connection_lost(std::exception_ptr error) {
  if (lost_scheduled_) return;
  lost_scheduled_ = true;
  // Python calls connection_lost on a later iteration, never inside close() or write().
  core_->call_soon([self = shared_from_this(), error] { self->call_connection_lost(error); });
}

void FdTransport::call_connection_lost(std::exception_ptr error) {
  if (lost_) return;
  lost_ = true;
  lost_error_ = error;
  stop_watching(true);
  stop_watching(false);
  if (reader_) {
    if (error) {
      reader_->set_exception(error);
    } else {
      reader_->feed_eof();
    }
    reader_->set_transport(nullptr);
  }
  wake_all(drain_waiters_, error);
  wake_all(closed_waiters_, error);
  ::close(fd_);
  fd_ = -1;
  if (auto callback = std::exchange(on_lost_, nullptr)) callback();
}

void FdTransport::maybe_pause_writing() {
  if (!write_paused_ && get_write_buffer_size() > high_) write_paused_ = true;
}

void FdTransport::maybe_resume_writing() {
  if (write_paused_ && get_write_buffer_size() <= low_) {
    write_paused_ = false;
    wake_all(drain_waiters_, nullptr);
  }
}

void wake_all(std::vector<Future<void>>& pending, std::exception_ptr error) {
  auto waiters = std::move(pending);
  pending.clear();
  for (auto& waiter : waiters) {
    if (waiter.done()) continue;
    if (error) {
      waiter.set_exception(error);
    } else {
      waiter.set_result();
    }
  }
}

void FdTransport::set_write_buffer_limits(std::optional<std::int64_t> high, std::optional<std::int64_t> low) {
  if (!high) high = low ? 4 * *low : 64 * 1024;
  if (!low) low = *high / 4;
  if (!(*high >= *low && *low >= 0))
    throw ValueError("high (" + std::to_string(*high) + ") must be >= low (" + std::to_string(*low) + ") must be >= 0");
  high_ = static_cast<std::size_t>(*high);
  low_ = static_cast<std::size_t>(*low);
  maybe_pause_writing();
  maybe_resume_writing();
}

std::any FdTransport::get_extra_info(std::string_view name, std::any fallback) const {
  if (kind_ == Kind::connection) {
    if (name == "socket") return fd_ < 0 ? fallback : std::any(fd_);
    if (name == "sockname") return sockname_.has_value() ? sockname_ : fallback;
    if (name == "peername") return peername_.has_value() ? peername_ : fallback;
  } else if (name == "pipe") {
    return fd_ < 0 ? fallback : std::any(fd_);
  }
  return fallback;
}

std::optional<Future<void>> FdTransport::drain_waiter() {
  if (lost_) throw ConnectionResetError("Connection lost");
  if (!write_paused_) return std::nullopt;
  Future<void> waiter(*loop_);
  drain_waiters_.push_back(waiter);
  return waiter;
}

Coroutine<void> FdTransport::wait_closed(std::shared_ptr<FdTransport>) {
  if (lost_) {
    if (lost_error_) std::rethrow_exception(lost_error_);
    co_return;
  }
  Future<void> waiter(*loop_);
  closed_waiters_.push_back(waiter);
  co_await waiter;
}

void FdTransport::keep_task(TaskBase task) {
  task_ = task;
  std::weak_ptr<FdTransport> self = weak_from_this();
  task.add_done_callback([self](FutureBase) {
    if (auto transport = self.lock()) transport->task_.reset();
  });
}

}  // namespace detail
}  // namespace pyconc::asyncio
