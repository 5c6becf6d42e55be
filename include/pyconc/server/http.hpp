// pyconc::server::Request and Response — what a pyconc-serve application sees: the WSGI
// environ and start_response of Python's servers, as two plain values.
//
// A synchronous handler (WSGI's analogue) is `Response(const Request&)`; a coroutine handler
// (ASGI's analogue) is `asyncio::Coroutine<Response>(Request)`. Header names compare without
// regard to case, as HTTP says; their order and repeats are kept. A response with `stream`
// or `async_stream` set is sent chunked (HTTP/1.1) piece by piece as the callable returns
// them, until it returns nothing; otherwise `body` is sent with a Content-Length.
//
// A request body up to Config::body_buffer_size arrives whole in `body`. A larger one (by its
// Content-Length, or chunked past that size) is streamed, as WSGI's wsgi.input and ASGI's
// receive() stream it: `body` holds nothing, `body_stream` hands it over as it arrives, and
// what the handler leaves unread is discarded before the next request. The sync worker, whose
// handler runs on the event loop that would have to read the body, always buffers it whole.
//
//   std::size_t size = 0;
//   if (request.body_stream) {
//     while (auto piece = request.body_stream->read()) size += piece->size();   // gthread
//   }                                        // asyncio: co_await request.body_stream->read_async()
//
//   pyconc::server::Response hello(const pyconc::server::Request& request) {
//     pyconc::server::Response response;
//     response.headers.add("Content-Type", "text/plain");
//     response.body = "Hello, " + std::string(request.query) + "\n";
//     return response;
//   }
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pyconc/asyncio/coroutine.hpp"

namespace pyconc::server {

class Headers {
 public:
  using Field = std::pair<std::string, std::string>;

  // The first value of `name` (any case), or none.
  std::optional<std::string_view> get(std::string_view name) const;
  bool contains(std::string_view name) const { return get(name).has_value(); }
  // Appends a field, keeping any of the same name (Set-Cookie may repeat).
  void add(std::string name, std::string value) { fields_.emplace_back(std::move(name), std::move(value)); }
  // Replaces every field of that name by one.
  void set(std::string name, std::string value);
  void remove(std::string_view name);
  const std::vector<Field>& fields() const { return fields_; }
  std::size_t size() const { return fields_.size(); }
  void clear() { fields_.clear(); }

 private:
  std::vector<Field> fields_;
};

// A request body read piece by piece as it arrives. A read after the handler has returned
// raises RuntimeError, as does a second read while one is waiting; a body that breaks off
// (the peer closed, a malformed chunk, more than limit_request_body) raises ConnectionError,
// and the client is answered with the status that fits (400 or 413) instead of the response.
class BodyStream {
 public:
  virtual ~BodyStream() = default;
  // The next piece (up to 64 KiB), or nothing once the body has all been read. Blocks: for a
  // handler on a thread of its own (gthread); on the event loop it raises RuntimeError.
  virtual std::optional<std::string> read() = 0;
  // The same, awaited on the worker's event loop (an asyncio handler).
  virtual asyncio::Coroutine<std::optional<std::string>> read_async() = 0;
  // The rest of the body in one string (what has not been read yet).
  std::string read_all();
  asyncio::Coroutine<std::string> read_all_async();
};

struct Request {
  std::string method;        // "GET"
  std::string target;        // "/search?q=x", as sent
  std::string path;          // "/search"
  std::string query;         // "q=x" (no '?')
  std::string http_version;  // "HTTP/1.1"
  Headers headers;
  std::string body;          // the whole body, de-chunked; empty when streamed
  std::shared_ptr<BodyStream> body_stream;  // set when the body is streamed (see above)
  std::string peer;          // "127.0.0.1:53712", or the Unix socket's path
};

struct Response {
  int status = 200;
  Headers headers;
  std::string body;
  // Set for a streamed body: called until it returns nothing, each piece sent as it comes.
  // A gthread worker calls it on its threads; the sync and asyncio workers on the event loop.
  std::function<std::optional<std::string>()> stream;
  // The same as a coroutine, awaited on the event loop (ASGI's send with more_body): for a
  // stream that waits between pieces. Used instead of `stream` when both are set.
  std::function<asyncio::Coroutine<std::optional<std::string>>()> async_stream;

  bool streamed() const { return stream || async_stream; }
};

// The standard reason phrase of a status code ("OK", "Not Found"; "Unknown" otherwise).
std::string_view reason_phrase(int status);

}  // namespace pyconc::server
