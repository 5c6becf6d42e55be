// StreamReader, after CPython 3.13's asyncio/streams.py (readuntil with several separators
// included).
#include "stream_reader_core.hpp"

#include <algorithm>

#include "pyconc/asyncio/task.hpp"

namespace pyconc::asyncio {

namespace {

std::string expected_text(std::optional<std::size_t> expected) {
  return expected ? std::to_string(*expected) : std::string("undefined");
}

}  // namespace

IncompleteReadError::IncompleteReadError(std::string partial, std::optional<std::size_t> expected)
    : EOFError(std::to_string(partial.size()) + " bytes read on a total of " + expected_text(expected) +
               " expected bytes"),
      partial_(std::move(partial)),
      expected_(expected) {}


void detail::StreamReaderCore::raise_if_failed() const {
  if (exception_) std::rethrow_exception(exception_);
}

void detail::StreamReaderCore::wake_waiter() {
  if (!waiter_) return;
  Future<void> waiter = *waiter_;
  waiter_.reset();
  if (!waiter.cancelled() && !waiter.done()) waiter.set_result();
}

void detail::StreamReaderCore::feed_data(std::string_view data) {
  if (eof_) throw RuntimeError("feed_data after feed_eof");
  if (data.empty()) return;
  buffer_.append(data);
  wake_waiter();
  if (transport_ && !paused_ && buffer_.size() > 2 * limit_) {
    transport_->pause_reading();
    paused_ = true;
  }
}

void detail::StreamReaderCore::feed_eof() {
  eof_ = true;
  wake_waiter();
}

void detail::StreamReaderCore::set_exception(std::exception_ptr error) {
  exception_ = error;
  if (!waiter_) return;
  Future<void> waiter = *waiter_;
  waiter_.reset();
  if (!waiter.cancelled() && !waiter.done()) waiter.set_exception(error);
}

void detail::StreamReaderCore::set_transport(ReadTransport* transport) {
  transport_ = transport;
  if (!transport) paused_ = false;
}

void detail::StreamReaderCore::maybe_resume_transport() {
  if (paused_ && transport_ && buffer_.size() <= limit_) {
    paused_ = false;
    transport_->resume_reading();
  }
}

detail::StreamReaderCore::DataWait detail::StreamReaderCore::wait_for_data(const char* caller) {
  if (waiter_)
    throw RuntimeError(std::string(caller) + "() called while another coroutine is already waiting for incoming data");
  if (paused_ && transport_) {
    paused_ = false;
    transport_->resume_reading();
  }
  Future<void> waiter(get_running_loop());
  waiter_ = waiter;
  return DataWait{this, waiter, waiter.operator co_await()};
}

void detail::StreamReaderCore::DataWait::await_resume() {
  // However the wait ended (data, EOF, an exception, a cancellation), this waiter is gone.
  struct Forget {
    DataWait* wait;
    ~Forget() {
      if (wait->reader->waiter_ && *wait->reader->waiter_ == wait->waiter) wait->reader->waiter_.reset();
    }
  } forget{this};
  inner.await_resume();
}

Coroutine<std::string> detail::StreamReaderCore::read(std::int64_t n, KeepAlive) {
  raise_if_failed();
  if (n == 0) co_return std::string();
  if (n < 0) {
    std::string all;
    for (;;) {
      std::string block = co_await read(static_cast<std::int64_t>(limit_), nullptr);
      if (block.empty()) break;
      all += block;
    }
    co_return all;
  }
  if (buffer_.empty() && !eof_) co_await wait_for_data("read");
  const auto take = std::min(buffer_.size(), static_cast<std::size_t>(n));
  std::string data = buffer_.substr(0, take);
  buffer_.erase(0, take);
  maybe_resume_transport();
  co_return data;
}

Coroutine<std::string> detail::StreamReaderCore::readline(KeepAlive) {
  std::optional<std::string> line;
  std::optional<std::string> overrun;
  try {
    std::vector<std::string> newline;  // named: GCC 12 cannot keep a braced list across co_await
    newline.emplace_back("\n");
    line = co_await readuntil(std::move(newline), nullptr);
  } catch (const IncompleteReadError& e) {
    co_return e.partial();  // the last partial line, or "" at EOF
  } catch (const LimitOverrunError& e) {
    // Drop the over-long line through its '\n' if it is there, else everything.
    if (buffer_.compare(std::min(e.consumed(), buffer_.size()), 1, "\n") == 0) {
      buffer_.erase(0, e.consumed() + 1);
    } else {
      buffer_.clear();
    }
    maybe_resume_transport();
    overrun = e.what();
  }
  if (overrun) throw ValueError(*overrun);
  co_return std::move(*line);
}

std::size_t detail::StreamReaderCore::find_any(const std::vector<std::string>& separators, std::size_t offset,
                                   std::size_t& match_start) const {
  std::size_t best_end = std::string::npos;
  for (const auto& separator : separators) {
    const auto at = buffer_.find(separator, offset);
    if (at == std::string::npos) continue;
    const auto end = at + separator.size();
    if (end < best_end) {
      best_end = end;
      match_start = at;
    }
  }
  return best_end;
}

Coroutine<std::string> detail::StreamReaderCore::readuntil(std::vector<std::string> separators, KeepAlive) {
  if (separators.empty()) throw ValueError("Separator should contain at least one element");
  std::size_t min_length = std::string::npos, max_length = 0;
  for (const auto& s : separators) {
    if (s.empty()) throw ValueError("Separator should be at least one-byte string");
    min_length = std::min(min_length, s.size());
    max_length = std::max(max_length, s.size());
  }
  raise_if_failed();
  std::size_t offset = 0, match_start = 0, match_end = std::string::npos;
  for (;;) {
    if (buffer_.size() >= offset + min_length) {
      match_end = find_any(separators, offset, match_start);
      if (match_end != std::string::npos) break;
      // Where the next search may start: a separator can straddle what is buffered and the next chunk.
      offset = buffer_.size() + 1 > max_length ? buffer_.size() + 1 - max_length : 0;
      if (offset > limit_) throw LimitOverrunError("Separator is not found, and chunk exceed the limit", offset);
    }
    if (eof_) {
      std::string partial = std::move(buffer_);
      buffer_.clear();
      throw IncompleteReadError(std::move(partial), std::nullopt);
    }
    co_await wait_for_data("readuntil");
    raise_if_failed();
  }
  if (match_start > limit_) throw LimitOverrunError("Separator is found, but chunk is longer than limit", match_start);
  std::string chunk = buffer_.substr(0, match_end);
  buffer_.erase(0, match_end);
  maybe_resume_transport();
  co_return chunk;
}

Coroutine<std::string> detail::StreamReaderCore::readexactly(std::int64_t n, KeepAlive) {
  if (n < 0) throw ValueError("readexactly size can not be less than zero");
  raise_if_failed();
  if (n == 0) co_return std::string();
  const auto wanted = static_cast<std::size_t>(n);
  while (buffer_.size() < wanted) {
    if (eof_) {
      std::string partial = std::move(buffer_);
      buffer_.clear();
      throw IncompleteReadError(std::move(partial), wanted);
    }
    co_await wait_for_data("readexactly");
  }
  std::string data = buffer_.substr(0, wanted);
  buffer_.erase(0, wanted);
  maybe_resume_transport();
  co_return data;
}

// The handle: copies share one stream. Each coroutine holds the core (keep_alive).
StreamReader::StreamReader(std::int64_t limit) {
  if (limit <= 0) throw ValueError("Limit cannot be <= 0");
  core_ = std::make_shared<detail::StreamReaderCore>(static_cast<std::size_t>(limit));
}
Coroutine<std::string> StreamReader::read(std::int64_t n) const { return core_->read(n, core_); }
Coroutine<std::string> StreamReader::readline() const { return core_->readline(core_); }
Coroutine<std::string> StreamReader::readuntil(std::string separator) const {
  std::vector<std::string> separators;
  separators.push_back(std::move(separator));
  return core_->readuntil(std::move(separators), core_);
}
Coroutine<std::string> StreamReader::readuntil(std::vector<std::string> separators) const {
  return core_->readuntil(std::move(separators), core_);
}
Coroutine<std::string> StreamReader::readexactly(std::int64_t n) const { return core_->readexactly(n, core_); }
bool StreamReader::at_eof() const { return core_->at_eof(); }
std::exception_ptr StreamReader::exception() const { return core_->exception(); }
void StreamReader::feed_data(std::string_view data) const { core_->feed_data(data); }
void StreamReader::feed_eof() const { core_->feed_eof(); }
void StreamReader::set_exception(std::exception_ptr error) const { core_->set_exception(error); }
void StreamReader::set_transport(ReadTransport* transport) const { core_->set_transport(transport); }
std::size_t StreamReader::buffered() const { return core_->buffered(); }
std::size_t StreamReader::limit() const { return core_->limit(); }

}  // namespace pyconc::asyncio
