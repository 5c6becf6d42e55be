// Responses as bytes: framing chosen by the server, the application's fields kept.
#include "server/response_writer.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include "server/access_log.hpp"

namespace {

using namespace pyconc::server;
using detail::Framing;

TEST(ResponseWriter, FramesABodyWithItsLength) {
  Response response;
  response.status = 404;
  response.headers.add("Content-Type", "text/plain");
  response.headers.add("Content-Length", "999");  // the server's business: replaced
  response.body = "nope";
  std::string out;
  detail::serialize_response(response, Framing{true, false, false}, out);
  EXPECT_EQ(out.rfind("HTTP/1.1 404 Not Found\r\n", 0), 0u);
  EXPECT_NE(out.find("\r\nConnection: keep-alive\r\n"), std::string::npos);
  EXPECT_NE(out.find("\r\nContent-Type: text/plain\r\n"), std::string::npos);
  EXPECT_EQ(out.find("999"), std::string::npos);
  EXPECT_EQ(out.substr(out.size() - 25), "Content-Length: 4\r\n\r\nnope");
}

TEST(ResponseWriter, HeadAndBodylessStatusesSendNoBody) {
  Response response;
  response.body = "abc";
  std::string out;
  detail::serialize_response(response, Framing{false, true, false}, out);
  EXPECT_NE(out.find("Content-Length: 3\r\n\r\n"), std::string::npos);
  EXPECT_EQ(out.find("abc"), std::string::npos);
  EXPECT_NE(out.find("Connection: close"), std::string::npos);
  response.status = 204;
  out.clear();
  detail::serialize_response(response, Framing{}, out);
  EXPECT_EQ(out.find("Content-Length"), std::string::npos);
  EXPECT_EQ(out.substr(out.size() - 4), "\r\n\r\n");
}

TEST(ResponseWriter, StreamsChunkedOrUntilTheClose) {
  Response response;
  response.stream = [] { return std::optional<std::string>(); };
  std::string out;
  detail::serialize_response(response, Framing{}, out);
  EXPECT_NE(out.find("Transfer-Encoding: chunked\r\n\r\n"), std::string::npos);
  out.clear();
  detail::serialize_chunk(std::string(26, 'x'), true, out);
  detail::serialize_chunk("", true, out);  // would end the body: skipped
  detail::serialize_last_chunk(true, out);
  EXPECT_EQ(out, "1a\r\n" + std::string(26, 'x') + "\r\n0\r\n\r\n");
  out.clear();
  detail::serialize_response(response, Framing{true, false, true}, out);  // HTTP/1.0
  EXPECT_EQ(out.find("chunked"), std::string::npos);
  EXPECT_NE(out.find("Connection: close"), std::string::npos);
}

TEST(AccessLog, FormatsGunicornsAtoms) {
  detail::AccessLog log("", R"(%(h)s %(l)s %(u)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(m)s %(U)s %(q)s %(H)s %(B)s %(zz)s)");
  detail::AccessRecord record{"10.0.0.1", "GET", "/p?q=1", "/p", "q=1", "HTTP/1.1", "", "curl/8", 200, 0, 0.5};
  EXPECT_EQ(log.format_line(record), "10.0.0.1 - - \"GET /p?q=1 HTTP/1.1\" 200 - \"-\" \"curl/8\" GET /p q=1 HTTP/1.1 0 -\n");
  EXPECT_FALSE(log.enabled());
  // The time atoms and the worker's pid.
  detail::AccessLog timing("", "%(T)s %(M)s %(D)s %(L)s %(p)s");
  EXPECT_EQ(timing.format_line(record), "0 500 500000 0.500000 <" + std::to_string(::getpid()) + ">\n");
}

TEST(Headers, CompareNamesWithoutCase) {
  Headers headers;
  headers.add("Set-Cookie", "a");
  headers.add("set-cookie", "b");
  EXPECT_EQ(headers.get("SET-COOKIE"), "a");
  headers.set("Set-Cookie", "c");
  EXPECT_EQ(headers.size(), 1u);
  EXPECT_EQ(headers.get("set-cookie"), "c");
  headers.remove("SET-cookie");
  EXPECT_FALSE(headers.contains("Set-Cookie"));
  EXPECT_EQ(reason_phrase(431), "Request Header Fields Too Large");
}

}  // namespace
