// StreamedBody and discard_rest (body_stream.hpp), and BodyStream's read_all.
#include "body_stream.hpp"

#include "pyconc/asyncio/threads.hpp"
#include "pyconc/errors.hpp"

namespace pyconc::server {

std::string BodyStream::read_all() {
  std::string whole;
  while (auto piece = read()) whole += *piece;
  return whole;
}

asyncio::Coroutine<std::string> BodyStream::read_all_async() {
  std::string whole;
  for (;;) {
    std::optional<std::string> piece = co_await read_async();
    if (!piece) co_return whole;
    whole += *piece;
  }
}

}  // namespace pyconc::server

namespace pyconc::server::detail {

namespace {

constexpr const char* over_message = "the request body can no longer be read: its handler has returned";

// The next piece of the body `input`'s parser is reading (what has arrived), or nothing at
// its end; ConnectionError when it broke off. `*over` (when given) is looked at after every
// wait: true when the connection has moved on, and the input is no longer this body's.
asyncio::Coroutine<std::optional<std::string>> next_piece_of(std::shared_ptr<ConnectionInput> input,
                                                             double read_timeout, const bool* over) {
  auto& loop = asyncio::get_running_loop();
  for (;;) {
    RequestParser& parser = *input->parser;
    std::string& body = parser.request().body;
    if (!body.empty()) {
      std::string piece;
      piece.swap(body);
      co_return piece;
    }
    if (parser.error_status()) throw ConnectionError("the request body broke off: " + std::string(parser.error_reason()));
    if (parser.done()) co_return std::nullopt;
    if (input->has_unparsed()) {
      input->parse_buffered();
      continue;
    }
    input->deadline = loop.time() + read_timeout;
    const bool more = co_await input->receive();
    if (over && *over) throw RuntimeError(over_message);
    input->deadline = 0;
    if (!more) parser.feed_eof();
  }
}

}  // namespace

StreamedBody::StreamedBody(std::shared_ptr<ConnectionInput> input, asyncio::EventLoop& loop, std::string arrived,
                           double read_timeout)
    : input_(std::move(input)), loop_(loop), arrived_(std::move(arrived)), read_timeout_(read_timeout) {}

// `self` by value: the coroutine may start on the loop after the reader that asked for it
// has given up (finish()) and dropped the request.
asyncio::Coroutine<std::optional<std::string>> StreamedBody::next_piece(std::shared_ptr<StreamedBody> self) {
  if (self->finished_ || self->input_->closed) throw RuntimeError(over_message);
  if (self->reading_) throw RuntimeError("the request body is already being read");
  if (!self->arrived_.empty()) co_return std::exchange(self->arrived_, std::string());
  self->reading_ = true;
  struct Done {
    bool& reading;
    ~Done() { reading = false; }
  } done{self->reading_};
  co_return co_await next_piece_of(self->input_, self->read_timeout_, &self->finished_);
}

asyncio::Coroutine<std::optional<std::string>> StreamedBody::read_async() { return next_piece(shared_from_this()); }

std::optional<std::string> StreamedBody::read() {
  if (asyncio::_get_running_loop()) {
    throw RuntimeError("BodyStream::read() would block the event loop: await read_async() there");
  }
  futures::Future<std::optional<std::string>> answer;
  {
    std::lock_guard lock(mutex_);
    if (finished_) throw RuntimeError(over_message);
    if (waiting_) throw RuntimeError("the request body is already being read");
    answer = asyncio::run_coroutine_threadsafe(next_piece(shared_from_this()), loop_);
    waiting_ = answer;
  }
  struct Done {
    StreamedBody& body;
    ~Done() {
      std::lock_guard lock(body.mutex_);
      body.waiting_.reset();
    }
  } done{*this};
  return answer.result();
}

void StreamedBody::finish() {
  std::lock_guard lock(mutex_);
  finished_ = true;
  if (waiting_ && !waiting_->done()) {
    try {
      waiting_->set_exception(std::make_exception_ptr(RuntimeError(over_message)));
    } catch (const futures::InvalidStateError&) {
      // The loop answered it meanwhile.
    }
  }
}

asyncio::Coroutine<bool> discard_rest(std::shared_ptr<ConnectionInput> input, double read_timeout) {
  try {
    for (;;) {
      std::optional<std::string> piece = co_await next_piece_of(input, read_timeout, nullptr);
      if (!piece) co_return true;
    }
  } catch (const OSError&) {
  }
  co_return false;
}

}  // namespace pyconc::server::detail
