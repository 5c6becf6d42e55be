// pyconc::asyncio streams — Python's asyncio.StreamReader and StreamWriter, open_connection
// and open_unix_connection (start_server: server.hpp). Bytes are std::string.
//
//   auto connection = co_await asyncio::open_connection("127.0.0.1", 8888);
//   auto& [reader, writer] = connection;
//   writer.write("hello\n");
//   co_await writer.drain();
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
// Who feeds it: a transport (feed_data, feed_eof, set_exception) — the connection of
// open_connection/start_server (server.hpp), or a subprocess's pipe; a program can feed
// one itself.
#pragma once

#include <any>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pyconc/asyncio/future.hpp"
#include "pyconc/asyncio/coroutine.hpp"
#include "pyconc/asyncio/transports.hpp"

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

namespace detail {
class StreamReaderCore;
class FdTransport;
}  // namespace detail

// A handle: copies share one stream, as Python references do, and every coroutine it returns
// keeps the stream alive until it ends (pass readers by value; none can dangle).
class StreamReader {
 public:
  static constexpr std::size_t DEFAULT_LIMIT = 64 * 1024;  // Python's _DEFAULT_LIMIT
  explicit StreamReader(std::int64_t limit = DEFAULT_LIMIT);  // ValueError for limit <= 0

  // read(n): up to n bytes as soon as any are there (b"" at EOF); read() or a negative n:
  // everything up to EOF.
  Coroutine<std::string> read(std::int64_t n = -1) const;
  Coroutine<std::string> readline() const;
  Coroutine<std::string> readuntil(std::string separator = "\n") const;
  // Python 3.13: the shortest data ending in any of the separators.
  Coroutine<std::string> readuntil(std::vector<std::string> separators) const;
  Coroutine<std::string> readexactly(std::int64_t n) const;
  bool at_eof() const;
  std::exception_ptr exception() const;

  // The transport's side.
  void feed_data(std::string_view data) const;
  void feed_eof() const;
  void set_exception(std::exception_ptr error) const;
  void set_transport(ReadTransport* transport) const;
  std::size_t buffered() const;
  std::size_t limit() const;

 private:
  std::shared_ptr<detail::StreamReaderCore> core_;
};

// Python's StreamWriter: the write side of a connection, over its transport. A handle, like
// StreamReader. write() never blocks; `co_await drain()` is where a fast writer waits for a
// slow peer (STR-14).
class StreamWriter {
 public:
  explicit StreamWriter(std::shared_ptr<detail::FdTransport> transport, std::optional<StreamReader> reader = {});

  void write(std::string_view data) const;
  void writelines(const std::vector<std::string>& data) const;
  bool can_write_eof() const;
  void write_eof() const;
  // Returns at once while the write buffer is at most the high water mark; above it, waits
  // until it has fallen to the low one. Raises the reader's exception if it has one, and
  // ConnectionResetError("Connection lost") once the connection is gone.
  Coroutine<void> drain() const;
  void close() const;
  bool is_closing() const;
  // Until the connection is closed (its exception, if it was lost with one).
  Coroutine<void> wait_closed() const;
  std::any get_extra_info(std::string_view name, std::any fallback = {}) const;
  Transport& transport() const;

 private:
  std::shared_ptr<detail::FdTransport> transport_;
  std::optional<StreamReader> reader_;
};

// (reader, writer). With GCC 12, bind them in a second statement —
//   auto connection = co_await open_connection(...); auto& [reader, writer] = connection;
// — its structured bindings of a co_await expression are miscompiled.
using StreamPair = std::pair<StreamReader, StreamWriter>;

// Python's open_connection(host, port, limit=...): connects (each address of `host` in
// turn) and returns the pair. OSError (ConnectionRefusedError, ...) when none accepts.
Coroutine<StreamPair> open_connection(std::string host, int port, std::int64_t limit = StreamReader::DEFAULT_LIMIT);
Coroutine<StreamPair> open_unix_connection(std::string path, std::int64_t limit = StreamReader::DEFAULT_LIMIT);

}  // namespace pyconc::asyncio
