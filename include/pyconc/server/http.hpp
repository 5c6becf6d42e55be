// pyconc::server::Request and Response — what a pyconc-serve application sees: the WSGI
// environ and start_response of Python's servers, as two plain values.
//
// A synchronous handler (WSGI's analogue) is `Response(const Request&)`; a coroutine handler
// (ASGI's analogue) is `asyncio::Coroutine<Response>(Request)`. Header names compare without
// regard to case, as HTTP says; their order and repeats are kept. A response with `stream`
// set is sent chunked (HTTP/1.1) piece by piece as the callable returns them, until it
// returns nothing; otherwise `body` is sent with a Content-Length.
//
//   pyconc::server::Response hello(const pyconc::server::Request& request) {
//     pyconc::server::Response response;
//     response.headers.add("Content-Type", "text/plain");
//     response.body = "Hello, " + std::string(request.query) + "\n";
//     return response;
//   }
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

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

struct Request {
  std::string method;        // "GET"
  std::string target;        // "/search?q=x", as sent
  std::string path;          // "/search"
  std::string query;         // "q=x" (no '?')
  std::string http_version;  // "HTTP/1.1"
  Headers headers;
  std::string body;          // the whole body, de-chunked
  std::string peer;          // "127.0.0.1:53712", or the Unix socket's path
};

struct Response {
  int status = 200;
  Headers headers;
  std::string body;
  // Set for a streamed body: called until it returns nothing, each piece sent as it comes.
  std::function<std::optional<std::string>()> stream;
};

// The standard reason phrase of a status code ("OK", "Not Found"; "Unknown" otherwise).
std::string_view reason_phrase(int status);

}  // namespace pyconc::server
