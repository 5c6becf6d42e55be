// serialize_response and friends (response_writer.hpp).
#include "response_writer.hpp"

#include <ctime>

namespace pyconc::server::detail {

namespace {

bool has_no_body(int status) { return (status >= 100 && status < 200) || status == 204 || status == 304; }

// Framing is the server's business: what the application set for it is replaced.
bool framing_field(std::string_view name) {
  auto same = [name](std::string_view other) {
    if (name.size() != other.size()) return false;
    for (std::size_t i = 0; i < name.size(); ++i) {
      if ((name[i] | 0x20) != other[i]) return false;
    }
    return true;
  };
  return same("content-length") || same("transfer-encoding") || same("connection") || same("date") ||
         same("server");
}

void append_number(std::string& out, std::size_t value) {
  char digits[24];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  while (n > 0) out += digits[--n];
}

}  // namespace

const std::string& http_date() {
  thread_local std::time_t made_at = 0;
  thread_local std::string date;
  const std::time_t now = std::time(nullptr);
  if (now != made_at) {
    made_at = now;
    std::tm parts{};
    ::gmtime_r(&now, &parts);
    char text[64];
    std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &parts);
    date = text;
  }
  return date;
}

void serialize_response(const Response& response, const Framing& framing, std::string& out) {
  const bool streamed = response.streamed();
  const bool keep_alive = framing.keep_alive && !(streamed && framing.http10);
  out += "HTTP/1.1 ";
  append_number(out, static_cast<std::size_t>(response.status));
  out += ' ';
  out += reason_phrase(response.status);
  out += "\r\nServer: pyconc\r\nDate: ";
  out += http_date();
  out += keep_alive ? "\r\nConnection: keep-alive\r\n" : "\r\nConnection: close\r\n";
  for (const auto& [name, value] : response.headers.fields()) {
    if (framing_field(name)) continue;
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  if (has_no_body(response.status)) {
    out += "\r\n";
    return;
  }
  if (streamed) {
    if (!framing.http10) out += "Transfer-Encoding: chunked\r\n";
    out += "\r\n";
    return;
  }
  out += "Content-Length: ";
  append_number(out, response.body.size());
  out += "\r\n\r\n";
  if (!framing.head_request) out += response.body;
}

void serialize_chunk(std::string_view piece, bool chunked, std::string& out) {
  if (piece.empty()) return;  // an empty chunk would end the body
  if (!chunked) {
    out += piece;
    return;
  }
  static constexpr char hex[] = "0123456789abcdef";
  char size[20];
  int n = 0;
  std::size_t value = piece.size();
  do {
    size[n++] = hex[value & 15];
    value >>= 4;
  } while (value != 0);
  while (n > 0) out += size[--n];
  out += "\r\n";
  out += piece;
  out += "\r\n";
}

void serialize_last_chunk(bool chunked, std::string& out) {
  if (chunked) out += "0\r\n\r\n";
}

Response error_response(int status, std::string_view detail) {
  Response response;
  response.status = status;
  response.headers.add("Content-Type", "text/plain");
  response.body = std::string(reason_phrase(status)) + ": " + std::string(detail) + "\n";
  return response;
}

}  // namespace pyconc::server::detail
