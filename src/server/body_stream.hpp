// A request body streamed to its handler (BodyStream of pyconc/server/http.hpp). Every read
// parses the next piece out of the connection's input on the worker's event loop, so the
// socket keeps one reader; a handler's thread (gthread) reaches the loop through
// run_coroutine_threadsafe and waits. Once the handler has returned the connection calls
// finish(): later reads fail, and a thread still waiting is woken with the error.
#pragma once

#include <memory>
#include <mutex>
#include <optional>

#include "connection_input.hpp"
#include "pyconc/asyncio/event_loop.hpp"
#include "pyconc/futures.hpp"

namespace pyconc::server::detail {

class StreamedBody final : public BodyStream, public std::enable_shared_from_this<StreamedBody> {
 public:
  // `arrived`: the body's bytes parsed with its head, the first piece handed over.
  // `read_timeout`: the seconds a client may pause in the middle of the body.
  StreamedBody(std::shared_ptr<ConnectionInput> input, asyncio::EventLoop& loop, std::string arrived,
               double read_timeout);

  std::optional<std::string> read() override;
  asyncio::Coroutine<std::optional<std::string>> read_async() override;

  // On the loop: the request is over (its handler returned, or the connection ended).
  void finish();
  // A read is under way on the loop, so the connection cannot go on to its next request.
  bool reading() const { return reading_; }

 private:
  static asyncio::Coroutine<std::optional<std::string>> next_piece(std::shared_ptr<StreamedBody> self);

  std::shared_ptr<ConnectionInput> input_;
  asyncio::EventLoop& loop_;
  std::string arrived_;
  const double read_timeout_;
  bool reading_ = false;  // the loop's own
  std::mutex mutex_;      // guards what threads see: finished_ and waiting_
  bool finished_ = false;
  std::optional<futures::Future<std::optional<std::string>>> waiting_;
};

// Reads and drops what is left of a streamed body, so the connection can take its next
// request; false when the body broke off (the parser says why) or the peer closed.
asyncio::Coroutine<bool> discard_rest(std::shared_ptr<ConnectionInput> input, double read_timeout);

}  // namespace pyconc::server::detail
