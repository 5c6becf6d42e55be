// pyconc::asyncio::StreamReader — Python's asyncio.StreamReader: the buffered, awaitable read
// side of a connection. Bytes are std::string.
//
//   std::string line = co_await reader.readline();          // through '\n', or the last partial line
//   std::string head = co_await reader.readuntil("\r\n\r\n");
//   std::string body = co_await reader.readexactly(length); // IncompleteReadError at an early EOF
//
// Python's rules (STR-01..09, 15, 16): read(n) returns as soon as any data is there; the limit
// (64 KiB by default) bounds readline/readuntil, not read/readexactly; an over-long line is
// ValueError and an over-long readuntil LimitOverrunError (the buffer kept); set_exception makes
// every later read raise; at_eof() is true once EOF was fed and the buffer is drained. A
// reader attached to a transport pauses it above 2 x limit buffered and resumes it at limit,
// so an unread stream stalls its peer instead of growing.
//
// Who feeds it: a transport (feed_data, feed_eof, set_exception). The TCP transports of
// open_connection/start_server are not built yet; a program can feed one itself.
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pyconc/asyncio/future.hpp"
#include "pyconc/asyncio/coroutine.hpp"

namespace pyconc::asyncio {

// Python's IncompleteReadError (an EOFError): EOF came before `expected` bytes (none:
// before the separator); `partial` is what was read.
class IncompleteReadError : public EOFError {
 public:
  IncompleteReadError(std::string partial, std::optional<std::size_t> expected);
  const char* type_name() const noexcept override { return "IncompleteReadError"; }
  const std::string& partial() const noexcept { return partial_; }
  std::optional<std::size_t> expected() const noexcept { return expected_; }

 private:
  std::string partial_;
  std::optional<std::size_t> expected_;
};

// Python's LimitOverrunError: the limit was reached before the separator; `consumed` is how
// many bytes the separator search went through.
class LimitOverrunError : public Error {
 public:
  LimitOverrunError(const std::string& message, std::size_t consumed) : Error(message), consumed_(consumed) {}
  const char* type_name() const noexcept override { return "LimitOverrunError"; }
  std::size_t consumed() const noexcept { return consumed_; }

 private:
  std::size_t consumed_;
};

// What a StreamReader asks of the transport that feeds it: to stop and to go on reading.
class ReadTransport {
 public:
  virtual ~ReadTransport() = default;
  virtual void pause_reading() = 0;
  virtual void resume_reading() = 0;
};

class StreamReader {
 public:
  static constexpr std::size_t DEFAULT_LIMIT = 64 * 1024;  // Python's _DEFAULT_LIMIT
  explicit StreamReader(std::int64_t limit = DEFAULT_LIMIT);  // ValueError for limit <= 0
  StreamReader(const StreamReader&) = delete;
  StreamReader& operator=(const StreamReader&) = delete;

  // read(n): up to n bytes as soon as any are there (b"" at EOF); read() or a negative n:
  // everything up to EOF.
  Coroutine<std::string> read(std::int64_t n = -1);
  Coroutine<std::string> readline();
  Coroutine<std::string> readuntil(std::string separator = "\n");
  // Python 3.13: the shortest data ending in any of the separators.
  Coroutine<std::string> readuntil(std::vector<std::string> separators);
  Coroutine<std::string> readexactly(std::int64_t n);
  bool at_eof() const { return eof_ && buffer_.empty(); }
  std::exception_ptr exception() const { return exception_; }

  // The transport's side.
  void feed_data(std::string_view data);
  void feed_eof();
  void set_exception(std::exception_ptr error);
  void set_transport(ReadTransport* transport) { transport_ = transport; }
  std::size_t buffered() const { return buffer_.size(); }
  std::size_t limit() const { return limit_; }

 private:
  Coroutine<void> wait_for_data(const char* caller);
  void wake_waiter();
  void maybe_resume_transport();
  void raise_if_failed() const;
  // The end of the shortest match of any separator in the buffer from `offset`, or npos.
  std::size_t find_any(const std::vector<std::string>& separators, std::size_t offset, std::size_t& match_start) const;

  std::size_t limit_;
  std::string buffer_;
  bool eof_ = false;
  std::optional<Future<void>> waiter_;
  std::exception_ptr exception_;
  ReadTransport* transport_ = nullptr;
  bool paused_ = false;
};

}  // namespace pyconc::asyncio
