// Internal: the one transport of pyconc's asyncio — a non-blocking stream socket watched by
// the loop (Python's _SelectorSocketTransport together with the StreamReaderProtocol part
// that keeps drain waiters and the closed future). Subprocess pipes use it too: they are
// socket pairs, so a write to a child that has gone is EPIPE (MSG_NOSIGNAL), never SIGPIPE.
//
// Lifetime: the loop's watches hold it weakly; the StreamReader/StreamWriter handles (and the
// task a server runs for the connection) own it. When the last owner goes, the descriptor
// is closed.
#pragma once

#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pyconc/asyncio/event_loop.hpp"
#include "pyconc/asyncio/future.hpp"
#include "pyconc/asyncio/streams.hpp"
#include "pyconc/asyncio/task.hpp"

namespace pyconc::asyncio::detail {

// Settles every waiter still pending (a cancelled one is skipped) with `error`, or with a
// result when there is none, and forgets them all.
void wake_all(std::vector<Future<void>>& waiters, std::exception_ptr error);

class FdTransport final : public Transport, public std::enable_shared_from_this<FdTransport> {
 public:
  // How the transport treats the end of its input: a connection keeps its write side open
  // (half-close); a child's output pipe closes; a child's input pipe reads only to learn that
  // the child closed it (BrokenPipeError if data was still buffered).
  enum class Kind { connection, read_pipe, write_pipe };

  static std::shared_ptr<FdTransport> make(EventLoop& loop, int fd, Kind kind, std::optional<StreamReader> reader);
  FdTransport(EventLoop& loop, int fd, Kind kind, std::optional<StreamReader> reader);
  ~FdTransport() override;

  // Transport
  void pause_reading() override;
  void resume_reading() override;
  bool is_reading() const override;
  void write(std::string_view data) override;
  bool can_write_eof() const override { return true; }
  void write_eof() override;
  void close() override;
  void abort() override;
  bool is_closing() const override { return closing_; }
  std::size_t get_write_buffer_size() const override { return buffer_.size() - sent_; }
  std::pair<std::size_t, std::size_t> get_write_buffer_limits() const override { return {low_, high_}; }
  void set_write_buffer_limits(std::optional<std::int64_t> high, std::optional<std::int64_t> low) override;
  std::any get_extra_info(std::string_view name, std::any fallback) const override;

  // The protocol side, for StreamWriter.
  // Python's _drain_helper without its coroutine frame: ConnectionResetError once the
  // connection is lost; none while writing is not paused; else the future to await.
  std::optional<Future<void>> drain_waiter();
  Coroutine<void> wait_closed(std::shared_ptr<FdTransport> keep_alive);
  bool connection_lost() const { return lost_; }
  // Runs once when the connection is gone (a server counts its connections with it).
  void on_connection_lost(std::function<void()> callback) { on_lost_ = std::move(callback); }
  // The task a server runs for this connection: kept until it ends.
  void keep_task(TaskBase task);
  EventLoop& loop() const { return *loop_; }

 private:
  void start_reading();
  void on_readable();
  void on_writable();
  void on_input_eof();
  // Python's _fatal_error/_force_close: drop the buffer and lose the connection with `error`.
  void force_close(std::exception_ptr error);
  void schedule_connection_lost(std::exception_ptr error);
  void call_connection_lost(std::exception_ptr error);
  void maybe_pause_writing();
  void maybe_resume_writing();
  void stop_watching(bool reading);
  // send() what the buffer holds; false after a fatal error.
  bool flush();

  EventLoop* loop_;
  std::shared_ptr<LoopCore> core_;
  int fd_;
  Kind kind_;
  std::optional<StreamReader> reader_;
  std::any sockname_, peername_;
  std::string buffer_;
  std::size_t sent_ = 0;  // bytes of buffer_ already sent (erased in bulk)
  std::size_t high_ = 64 * 1024, low_ = 16 * 1024;
  bool reading_ = false, read_paused_ = false;
  bool writing_watched_ = false;
  bool closing_ = false, eof_requested_ = false, eof_written_ = false;
  bool lost_scheduled_ = false, lost_ = false;
  int writes_after_loss_ = 0;
  bool write_paused_ = false;
  std::vector<Future<void>> drain_waiters_;
  std::vector<Future<void>> closed_waiters_;
  std::exception_ptr lost_error_;
  std::function<void()> on_lost_;
  std::optional<TaskBase> task_;
};

}  // namespace pyconc::asyncio::detail
