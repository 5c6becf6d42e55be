// pyconc::asyncio transports — Python's asyncio.ReadTransport / WriteTransport: the loop's
// side of a connection (a TCP or Unix socket, a subprocess's pipe). Streams sit on top of them
// (streams.hpp); a program reaches one through StreamWriter::transport().
//
// Python's rules kept: write() never blocks — what the descriptor does not take at once is
// buffered and sent when it becomes writable; flow control pauses the writer above the high
// water mark (64 KiB) and resumes it at the low one (16 KiB) (STR-13); close() sends what is
// buffered first, abort() drops it.
//
//   auto& transport = writer.transport();
//   transport.set_write_buffer_limits(1 << 20);           // high 1 MiB, low 256 KiB
//   auto [low, high] = transport.get_write_buffer_limits();
#pragma once

#include <any>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace pyconc::asyncio {

// A socket's address, as Python's sockname/peername: (host, port) for TCP, a path for Unix
// (empty for an unnamed Unix socket).
struct SocketAddress {
  std::string host;
  int port = 0;
  std::string path;
  bool is_unix() const { return host.empty(); }
  friend bool operator==(const SocketAddress&, const SocketAddress&) = default;
};
std::string to_string(const SocketAddress& address);  // "('127.0.0.1', 8080)" or "'/tmp/s'"

// What a StreamReader asks of the transport that feeds it: to stop and to go on reading.
class ReadTransport {
 public:
  virtual ~ReadTransport() = default;
  virtual void pause_reading() = 0;
  virtual void resume_reading() = 0;
  virtual bool is_reading() const = 0;
};

class Transport : public ReadTransport {
 public:
  // Sends what it can now and buffers the rest. After write_eof(): RuntimeError. On a
  // connection already lost: nothing (Python logs a warning after a few attempts).
  virtual void write(std::string_view data) = 0;
  virtual bool can_write_eof() const = 0;
  // Closes the write side once the buffer is sent (shutdown(SHUT_WR) on a socket).
  virtual void write_eof() = 0;
  virtual void close() = 0;
  virtual void abort() = 0;
  virtual bool is_closing() const = 0;
  virtual std::size_t get_write_buffer_size() const = 0;
  // (low, high), as Python returns them.
  virtual std::pair<std::size_t, std::size_t> get_write_buffer_limits() const = 0;
  // Python's set_write_buffer_limits(high=None, low=None): high alone sets low = high / 4,
  // low alone sets high = 4 x low, neither restores 64 KiB / 16 KiB; ValueError for high < low
  // or a negative value.
  virtual void set_write_buffer_limits(std::optional<std::int64_t> high = std::nullopt,
                                       std::optional<std::int64_t> low = std::nullopt) = 0;
  // "peername" and "sockname" (SocketAddress), "socket" (the descriptor, int), "pipe" (int,
  // for a pipe transport); `fallback` for any other name or a value not available.
  virtual std::any get_extra_info(std::string_view name, std::any fallback = {}) const = 0;
};

}  // namespace pyconc::asyncio
