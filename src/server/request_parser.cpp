// RequestParser: Boost.Beast's basic_parser does the HTTP/1.1 grammar (request line, fields,
// Content-Length and chunked framing); this file fills a Request from its callbacks and
// applies Gunicorn's limits, so each failure maps to the status Gunicorn would answer.
#include "request_parser.hpp"

// GCC 12 sees Beast's boost::optional<std::uint64_t> returns as maybe uninitialized when it
// inlines them into this file's instantiation of the parser; they are not (Boost 1.74).
#if defined(__GNUC__) && !defined(__clang__)  // clang has no such warning, and says so
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <boost/asio/buffer.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>

namespace pyconc::server::detail {

namespace http = boost::beast::http;
using boost::beast::error_code;
using boost::beast::string_view;

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// WSGI's PATH_INFO is the path with its %XX escapes decoded; a malformed escape stays as sent.
std::string unquote(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      const int high = hex_value(text[i + 1]), low = hex_value(text[i + 2]);
      if (high >= 0 && low >= 0) {
        out += static_cast<char>(high * 16 + low);
        i += 2;
        continue;
      }
    }
    out += text[i];
  }
  return out;
}

std::string_view view(string_view text) { return {text.data(), text.size()}; }

}  // namespace

class RequestParser::Beast final : public http::basic_parser<true> {
 public:
  Beast(RequestParser& owner, const HttpLimits& limits) : owner_(owner), limits_(limits) {
    std::uint64_t header_limit = 1 << 20;
    if (limits.request_line > 0 && limits.fields > 0 && limits.field_size > 0) {
      header_limit = static_cast<std::uint64_t>(limits.request_line) + 4 +
                     static_cast<std::uint64_t>(limits.fields) * (limits.field_size + 2);
    }
    this->header_limit(static_cast<std::uint32_t>(std::min<std::uint64_t>(header_limit, UINT32_MAX)));
    if (limits.body > 0) {
      body_limit(static_cast<std::uint64_t>(limits.body));
    } else {
      body_limit(boost::none);
    }
    eager(true);
  }

  Request request;
  bool expect_continue = false;

 private:
  void on_request_impl(http::verb, string_view method, string_view target, int version, error_code& ec) override {
    // "METHOD SP target SP HTTP/x.y": Gunicorn's limit counts the whole line.
    const std::size_t line = method.size() + target.size() + 10;
    if (limits_.request_line > 0 && line > static_cast<std::size_t>(limits_.request_line) + 2) {
      owner_.fail(414, "Request Line is too large");
      ec = http::error::bad_target;
      return;
    }
    request.method = view(method);
    request.target = view(target);
    request.http_version = "HTTP/" + std::to_string(version / 10) + "." + std::to_string(version % 10);
    const std::string_view whole = request.target;
    const std::size_t question = whole.find('?');
    request.path = unquote(whole.substr(0, question));
    if (question != std::string_view::npos) request.query = whole.substr(question + 1);
  }

  void on_response_impl(int, string_view, int, error_code& ec) override { ec = http::error::bad_version; }

  void on_field_impl(http::field, string_view name, string_view value, error_code& ec) override {
    if (limits_.fields > 0 && request.headers.size() >= static_cast<std::size_t>(limits_.fields)) {
      owner_.fail(431, "Too many header fields");
      ec = http::error::bad_field;
      return;
    }
    if (limits_.field_size > 0 && name.size() + 2 + value.size() > static_cast<std::size_t>(limits_.field_size)) {
      owner_.fail(431, "Header field is too large");
      ec = http::error::bad_field;
      return;
    }
    if (boost::beast::iequals(name, "expect")) {
      if (!boost::beast::iequals(value, "100-continue")) {
        owner_.fail(417, "Expectation Failed");
        ec = http::error::bad_value;
        return;
      }
      expect_continue = true;
    }
    request.headers.add(std::string(view(name)), std::string(view(value)));
  }

  void on_header_impl(error_code&) override {}

  void on_body_init_impl(const boost::optional<std::uint64_t>& length, error_code&) override {
    if (length && *length <= (1u << 20)) request.body.reserve(static_cast<std::size_t>(*length));
  }

  std::size_t on_body_impl(string_view body, error_code&) override {
    request.body.append(body.data(), body.size());
    return body.size();
  }

  void on_chunk_header_impl(std::uint64_t, string_view, error_code&) override {}

  std::size_t on_chunk_body_impl(std::uint64_t, string_view body, error_code&) override {
    request.body.append(body.data(), body.size());
    return body.size();
  }

  void on_finish_impl(error_code&) override {}

  RequestParser& owner_;
  HttpLimits limits_;
};

RequestParser::RequestParser(const HttpLimits& limits) : beast_(std::make_unique<Beast>(*this, limits)), limits_(limits) {}
RequestParser::~RequestParser() = default;

void RequestParser::fail(int status, std::string_view reason) {
  if (error_status_) return;
  error_status_ = status;
  error_reason_ = reason;
}

std::size_t RequestParser::feed(std::string_view data) {
  if (error_status_ || done() || data.empty()) return 0;
  if (!line_checked_ && limits_.request_line > 0) {
    // Beast waits for the whole head before it parses the line: measure the line first, so
    // that an over-long one is a 414 and not the head's limit (431).
    const std::size_t end = data.find('\n');
    const std::size_t line = end == std::string_view::npos ? data.size() : end;
    if (line > static_cast<std::size_t>(limits_.request_line) + 1) {
      fail(414, "Request Line is too large");
      return 0;
    }
    line_checked_ = end != std::string_view::npos;
  }
  error_code ec;
  const std::size_t used = beast_->put(boost::asio::const_buffer(data.data(), data.size()), ec);
  if (!ec || ec == http::error::need_more) return used;
  if (ec == http::error::body_limit) {
    fail(413, "Request body is too large");
  } else if (ec == http::error::header_limit) {
    fail(431, "Request header is too large");
  } else {
    fail(400, "Bad Request");
  }
  return used;
}

void RequestParser::feed_eof() {
  if (error_status_ || done()) return;
  error_code ec;
  beast_->put_eof(ec);
  if (ec) fail(400, "Bad Request");
}

bool RequestParser::started() const { return beast_->got_some(); }
bool RequestParser::header_done() const { return beast_->is_header_done(); }
bool RequestParser::done() const { return beast_->is_done(); }
bool RequestParser::keep_alive() const { return beast_->is_header_done() && beast_->keep_alive(); }
std::optional<std::uint64_t> RequestParser::content_length() const {
  if (!beast_->is_header_done() || beast_->chunked()) return std::nullopt;
  const auto length = beast_->content_length();
  if (!length) return std::nullopt;
  return *length;
}
bool RequestParser::expects_continue() const { return beast_->expect_continue && !beast_->is_done(); }
Request& RequestParser::request() { return beast_->request; }

}  // namespace pyconc::server::detail
