// A Response turned into HTTP/1.1 bytes: the head (status line, the server's own fields, the
// application's), the body with its Content-Length, or the pieces of a streamed body chunked.
#pragma once

#include <string>

#include "pyconc/server/http.hpp"

namespace pyconc::server::detail {

struct Framing {
  bool keep_alive = true;
  bool head_request = false;  // HEAD: the head says what GET would send, no body follows
  bool http10 = false;        // an HTTP/1.0 client gets no chunked body: the close ends it
};

// Appends the head and, unless the body is streamed, the body. A streamed response is sent
// chunked to HTTP/1.1 clients and delimited by closing the connection for HTTP/1.0 ones.
void serialize_response(const Response& response, const Framing& framing, std::string& out);
// One piece of a streamed body (nothing for an empty piece) and the end of one.
void serialize_chunk(std::string_view piece, bool chunked, std::string& out);
void serialize_last_chunk(bool chunked, std::string& out);
// The answer to a request that failed to parse: the status with its reason as the body.
Response error_response(int status, std::string_view detail);
// The Date header's value, made once a second: "Tue, 01 Dec 2026 17:50:00 GMT".
const std::string& http_date();

}  // namespace pyconc::server::detail
