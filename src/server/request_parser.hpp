// One HTTP/1.1 request parsed from bytes as they arrive, on Boost.Beast's parser, with
// Gunicorn's limits turned into the status a client gets (400, 413, 414, 431).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "pyconc/server/http.hpp"

namespace pyconc::server::detail {

struct HttpLimits {
  int request_line = 4094;      // 0: no limit
  int fields = 100;             // 0: no limit
  int field_size = 8190;        // 0: no limit
  std::int64_t body = 64 << 20;  // 0: no limit
};

class RequestParser {
 public:
  explicit RequestParser(const HttpLimits& limits);
  ~RequestParser();
  // Beast's callbacks report to this object: it stays where it was made.
  RequestParser(const RequestParser&) = delete;
  RequestParser& operator=(const RequestParser&) = delete;

  // Parses what it can of `data` and returns how many bytes it used; the rest (a header not
  // yet complete, or the next pipelined request) must be offered again with more after it.
  std::size_t feed(std::string_view data);
  // The peer closed: a request cut short becomes a 400.
  void feed_eof();

  bool started() const;      // some bytes of a request have arrived
  bool header_done() const;
  bool done() const;         // the whole request, body included
  // The status to answer with when the request is malformed or over a limit.
  std::optional<int> error_status() const { return error_status_; }
  std::string_view error_reason() const { return error_reason_; }
  bool keep_alive() const;
  // The Content-Length the head announced, once the head is done (none when chunked).
  std::optional<std::uint64_t> content_length() const;
  // "Expect: 100-continue" with a body still to come.
  bool expects_continue() const;
  Request& request();

 private:
  class Beast;
  std::unique_ptr<Beast> beast_;
  HttpLimits limits_;
  std::optional<int> error_status_;
  std::string_view error_reason_;
  bool line_checked_ = false;
  void fail(int status, std::string_view reason);
};

}  // namespace pyconc::server::detail
