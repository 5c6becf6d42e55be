// StreamReader, after CPython 3.13's asyncio/streams.py (readuntil with several separators
// included).
#include "pyconc/asyncio/streams.hpp"

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

StreamReader::StreamReader(std::int64_t limit) : limit_(static_cast<std::size_t>(limit)) {
  if (limit <= 0) throw ValueError("Limit cannot be <= 0");
}

void StreamReader::raise_if_failed() const {
  if (exception_) std::rethrow_exception(exception_);
}

void StreamReader::wake_waiter() {
  if (!waiter_) return;
  Future<void> waiter = *waiter_;
  waiter_.reset();
  if (!waiter.cancelled() && !waiter.done()) waiter.set_result();
}

void StreamReader::feed_data(std::string_view data) {
  if (eof_) throw RuntimeError("feed_data after feed_eof");
  if (data.empty()) return;
  buffer_.append(data);
  wake_waiter();
  if (transport_ && !paused_ && buffer_.size() > 2 * limit_) {
    transport_->pause_reading();
    paused_ = true;
  }
}

void StreamReader::feed_eof() {
  eof_ = true;
  wake_waiter();
}

void StreamReader::set_exception(std::exception_ptr error) {
  exception_ = error;
  if (!waiter_) return;
  Future<void> waiter = *waiter_;
  waiter_.reset();
  if (!waiter.cancelled() && !waiter.done()) waiter.set_exception(error);
}

void StreamReader::maybe_resume_transport() {
  if (paused_ && buffer_.size() <= limit_) {
    paused_ = false;
    transport_->resume_reading();
  }
}

Coroutine<void> StreamReader::wait_for_data(const char* caller) {
  if (waiter_)
    throw RuntimeError(std::string(caller) + "() called while another coroutine is already waiting for incoming data");
  if (paused_) {
    paused_ = false;
    transport_->resume_reading();
  }
  Future<void> waiter(get_running_loop());
  waiter_ = waiter;
  std::exception_ptr failure;
  try {
    co_await waiter;
  } catch (...) {
    failure = std::current_exception();
  }
  if (waiter_ && *waiter_ == waiter) waiter_.reset();
  if (failure) std::rethrow_exception(failure);
}

Coroutine<std::string> StreamReader::read(std::int64_t n) {
  raise_if_failed();
  if (n == 0) co_return std::string();
  if (n < 0) {
    std::string all;
    for (;;) {
      std::string block = co_await read(static_cast<std::int64_t>(limit_));
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

Coroutine<std::string> StreamReader::readline() {
  std::optional<std::string> line;
  std::optional<std::string> overrun;
  try {
    line = co_await readuntil(std::string("\n"));
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

Coroutine<std::string> StreamReader::readuntil(std::string separator) {
  std::vector<std::string> separators;  // named: GCC 12 cannot keep a braced list across co_await
  separators.push_back(std::move(separator));
  co_return co_await readuntil(std::move(separators));
}

std::size_t StreamReader::find_any(const std::vector<std::string>& separators, std::size_t offset,
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

Coroutine<std::string> StreamReader::readuntil(std::vector<std::string> separators) {
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

Coroutine<std::string> StreamReader::readexactly(std::int64_t n) {
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

}  // namespace pyconc::asyncio
