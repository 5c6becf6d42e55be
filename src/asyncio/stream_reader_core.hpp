// Internal: the state behind a StreamReader handle. Its coroutines take a `keep_alive`
// reference to the core itself: a coroutine frame keeps only `this`, so without it a read
// still pending when the last handle went would use a freed buffer.
#pragma once

#include <cstddef>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pyconc/asyncio/streams.hpp"

namespace pyconc::asyncio::detail {

class StreamReaderCore {
 public:
  using KeepAlive = std::shared_ptr<StreamReaderCore>;
  explicit StreamReaderCore(std::size_t limit) : limit_(limit) {}

  Coroutine<std::string> read(std::int64_t n, KeepAlive keep_alive);
  Coroutine<std::string> readline(KeepAlive keep_alive);
  Coroutine<std::string> readuntil(std::vector<std::string> separators, KeepAlive keep_alive);
  Coroutine<std::string> readexactly(std::int64_t n, KeepAlive keep_alive);
  bool at_eof() const { return eof_ && buffer_.empty(); }
  std::exception_ptr exception() const { return exception_; }

  void feed_data(std::string_view data);
  void feed_eof();
  void set_exception(std::exception_ptr error);
  void set_transport(ReadTransport* transport);
  std::size_t buffered() const { return buffer_.size(); }
  std::size_t limit() const { return limit_; }

 private:
  // What a read awaits until data, EOF or an exception arrives: an awaiter, not a coroutine,
  // so that a read that has to wait costs no frame of its own.
  struct DataWait {
    StreamReaderCore* reader;
    Future<void> waiter;
    FutureAwaiter<void> inner;
    bool await_ready() { return inner.await_ready(); }
    bool await_suspend(std::coroutine_handle<> resume) { return inner.await_suspend(resume); }
    void await_resume();
  };
  DataWait wait_for_data(const char* caller);
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

}  // namespace pyconc::asyncio::detail
