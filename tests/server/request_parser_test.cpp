// The HTTP/1.1 request parser: Beast's grammar with Gunicorn's limits and their statuses.
#include "server/request_parser.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace {

using pyconc::server::detail::HttpLimits;
using pyconc::server::detail::RequestParser;

// Feeds `bytes` as a connection would: in pieces, re-offering what the parser left unused.
std::size_t feed_in_pieces(RequestParser& parser, const std::string& bytes, std::mt19937& random) {
  std::string pending;
  std::size_t offered = 0;
  while (offered < bytes.size() && !parser.done() && !parser.error_status()) {
    const std::size_t piece = std::uniform_int_distribution<std::size_t>(1, 17)(random);
    pending += bytes.substr(offered, piece);
    offered += std::min(piece, bytes.size() - offered);
    pending.erase(0, parser.feed(pending));
  }
  return offered - pending.size();
}

TEST(RequestParser, ParsesARequestFedInAnyPieces) {
  const std::string bytes =
      "POST /a%20b/c?x=1&y=2 HTTP/1.1\r\nHost: example\r\nX-Twice: 1\r\nx-twice: 2\r\nContent-Length: 5\r\n\r\nhello";
  std::mt19937 random(7);
  for (int round = 0; round < 200; ++round) {
    RequestParser parser(HttpLimits{});
    EXPECT_EQ(feed_in_pieces(parser, bytes, random), bytes.size());
    ASSERT_TRUE(parser.done());
    auto& request = parser.request();
    EXPECT_EQ(request.method, "POST");
    EXPECT_EQ(request.target, "/a%20b/c?x=1&y=2");
    EXPECT_EQ(request.path, "/a b/c");
    EXPECT_EQ(request.query, "x=1&y=2");
    EXPECT_EQ(request.http_version, "HTTP/1.1");
    EXPECT_EQ(request.headers.get("HOST"), "example");
    EXPECT_EQ(request.headers.get("x-twice"), "1");
    EXPECT_EQ(request.headers.size(), 4u);
    EXPECT_EQ(request.body, "hello");
    EXPECT_TRUE(parser.keep_alive());
  }
}

TEST(RequestParser, LeavesAPipelinedRequestForTheNext) {
  const std::string first = "GET /1 HTTP/1.1\r\nHost: h\r\n\r\n", second = "GET /2 HTTP/1.1\r\nHost: h\r\n\r\n";
  const std::string both = first + second;
  RequestParser one(HttpLimits{});
  const std::size_t used = one.feed(both);
  EXPECT_EQ(used, first.size());
  EXPECT_EQ(one.request().path, "/1");
  RequestParser two(HttpLimits{});
  EXPECT_EQ(two.feed(std::string_view(both).substr(used)), second.size());
  EXPECT_EQ(two.request().path, "/2");
}

TEST(RequestParser, DecodesAChunkedBody) {
  const std::string bytes = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
  std::mt19937 random(3);
  RequestParser parser(HttpLimits{});
  feed_in_pieces(parser, bytes, random);
  ASSERT_TRUE(parser.done());
  EXPECT_EQ(parser.request().body, "hello world");
}

TEST(RequestParser, KeepAliveFollowsTheVersionAndConnection) {
  auto keeps = [](const std::string& head) {
    RequestParser parser(HttpLimits{});
    parser.feed(head);
    return parser.keep_alive();
  };
  EXPECT_TRUE(keeps("GET / HTTP/1.1\r\nHost: h\r\n\r\n"));
  EXPECT_FALSE(keeps("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"));
  EXPECT_FALSE(keeps("GET / HTTP/1.0\r\n\r\n"));
  EXPECT_TRUE(keeps("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
}

TEST(RequestParser, ExpectContinueIsSeenBeforeTheBody) {
  RequestParser parser(HttpLimits{});
  parser.feed("PUT / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n");
  EXPECT_TRUE(parser.header_done());
  EXPECT_TRUE(parser.expects_continue());
  parser.feed("abc");
  EXPECT_TRUE(parser.done());
  EXPECT_FALSE(parser.expects_continue());
}

// Gunicorn's limits, each answered with its own status.
int status_of(const std::string& bytes, HttpLimits limits = {}) {
  RequestParser parser(limits);
  std::string pending = bytes;
  pending.erase(0, parser.feed(pending));
  if (!parser.error_status() && !parser.done()) parser.feed_eof();
  return parser.error_status().value_or(200);
}

TEST(RequestParser, LimitsGetGunicornsStatuses) {
  EXPECT_EQ(status_of("GET /" + std::string(5000, 'a') + " HTTP/1.1\r\n\r\n"), 414);
  EXPECT_EQ(status_of("GET /" + std::string(5000, 'a')), 414);  // no end of line yet
  std::string many = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 101; ++i) many += "X-" + std::to_string(i) + ": v\r\n";
  EXPECT_EQ(status_of(many + "\r\n"), 431);
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nX-Big: " + std::string(9000, 'v') + "\r\n\r\n"), 431);
  HttpLimits small;
  small.body = 10;
  EXPECT_EQ(status_of("POST / HTTP/1.1\r\nContent-Length: 11\r\n\r\n", small), 413);
  EXPECT_EQ(status_of("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nb\r\nhello world\r\n0\r\n\r\n", small), 413);
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nContent-Length: 1\r\n\r\na", small), 200);
  EXPECT_EQ(status_of("NOT HTTP AT ALL\r\n\r\n"), 400);
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nBad Header\r\n\r\n"), 400);
  EXPECT_EQ(status_of("POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nab"), 400);  // cut short
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nExpect: something-else\r\n\r\n"), 417);
  HttpLimits none{0, 0, 0, 0};
  EXPECT_EQ(status_of("GET /" + std::string(5000, 'a') + " HTTP/1.1\r\n\r\n", none), 200);
}

}  // namespace
