// Request bodies through pyconc-serve: small ones held whole, large ones streamed to the
// handler (gthread, asyncio), what a handler leaves unread discarded before the next request,
// and the ways a body can break off: over the limit, the client gone, the client stalled.
#include <gtest/gtest.h>

#include <cstdint>

#include "body_text.hpp"
#include "serve_process.hpp"

namespace {

using namespace server_test;
using namespace std::chrono_literals;

// What the demo's /upload answers for `body` (its checksum, as demo_app.cpp computes it).
std::string upload_prefix(const std::string& body, bool streamed) {
  std::uint32_t sum = 0;
  for (unsigned char c : body) sum = sum * 31 + c;
  return "bytes=" + std::to_string(body.size()) + " sum=" + std::to_string(sum) +
         " streamed=" + std::to_string(streamed) + " pieces=";
}

int pieces_of(const std::string& answer) {
  const auto at = answer.find("pieces=");
  return at == std::string::npos ? -1 : std::stoi(answer.substr(at + 7));
}

std::string post(const std::string& target, const std::string& body, bool keep_alive = false) {
  return request("POST", target,
                 (keep_alive ? "" : "Connection: close\r\n") + std::string("Content-Length: ") +
                     std::to_string(body.size()) + "\r\n") +
         body;
}

class BodiesOfEachWorkerKind : public testing::TestWithParam<std::string> {
 protected:
  bool streams() const { return GetParam() != "sync"; }
};

TEST_P(BodiesOfEachWorkerKind, LargeBodiesAreStreamedAndSmallOnesHeldWhole) {
  ServeProcess serve({"-w", "1", "-k", GetParam(), "--threads", "2", "--body-buffer-size", "65536"});
  const std::string small = pattern(1000), large = pattern(1 << 20), medium = pattern(300'000);
  {
    HttpClient client(serve.port());
    client.send(post("/upload", small));
    EXPECT_EQ(client.read_response().body, upload_prefix(small, false) + "0\n");
  }
  {
    HttpClient client(serve.port());
    client.send(post("/upload", large));
    const std::string answer = client.read_response().body;
    EXPECT_EQ(answer.substr(0, answer.find("pieces=") + 7), upload_prefix(large, streams()));
    if (streams()) EXPECT_GT(pieces_of(answer), 1);
  }
  {
    HttpClient client(serve.port());
    client.send(request("POST", "/upload", "Connection: close\r\nTransfer-Encoding: chunked\r\n") +
                chunked(medium, 10'000));
    const std::string answer = client.read_response().body;
    EXPECT_EQ(answer.substr(0, answer.find("pieces=") + 7), upload_prefix(medium, streams()));
  }
  // A chunked body that ends within the buffer size arrives whole.
  HttpClient client(serve.port());
  client.send(request("POST", "/upload", "Connection: close\r\nTransfer-Encoding: chunked\r\n") + chunked(small, 100));
  EXPECT_EQ(client.read_response().body, upload_prefix(small, false) + "0\n");
}

TEST_P(BodiesOfEachWorkerKind, AClientGoneInTheMiddleOfABodyLeavesTheWorkerServing) {
  ServeProcess serve({"-w", "1", "-k", GetParam(), "--body-buffer-size", "1000"});
  const auto pid = get(serve.port(), "/pid").body;
  for (int i = 0; i < 5; ++i) {
    HttpClient client(serve.port());
    client.send(request("POST", "/upload", "Content-Length: 1000000\r\n") + pattern(200'000 + i * 50'000));
  }
  EXPECT_EQ(get(serve.port(), "/pid").body, pid);
  EXPECT_EQ(serve.count("Error handling request"), 0);  // the client's doing, not the handler's
}

TEST_P(BodiesOfEachWorkerKind, AChunkedBodyOverTheLimitGets413) {
  ServeProcess serve({"-w", "1", "-k", GetParam(), "--limit-request-body", "200000", "--body-buffer-size", "1000"});
  HttpClient client(serve.port());
  client.send(request("POST", "/upload", "Transfer-Encoding: chunked\r\n") + chunked(pattern(300'000), 4096));
  auto response = client.read_response();
  EXPECT_EQ(response.status, 413);
  EXPECT_NE(response.head.find("Connection: close"), std::string::npos);
  EXPECT_EQ(get(serve.port(), "/").status, 200);
}

INSTANTIATE_TEST_SUITE_P(Kinds, BodiesOfEachWorkerKind, testing::Values("sync", "gthread", "asyncio"));

class BodiesOfStreamingKinds : public testing::TestWithParam<std::string> {};

TEST_P(BodiesOfStreamingKinds, AnUnreadBodyIsDiscardedAndTheConnectionGoesOn) {
  ServeProcess serve({"-w", "1", "-k", GetParam(), "--body-buffer-size", "4096"});
  HttpClient client(serve.port());
  const std::string body = pattern(500'000);
  client.send(post("/pid", body, true));  // /pid never reads its body
  const auto first = client.read_response();
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(first.head.find("Connection: close"), std::string::npos);
  client.send(request("GET", "/pid") + post("/upload", body, true));  // pipelined after the rest
  EXPECT_EQ(client.read_response().body, first.body);
  const std::string answer = client.read_response().body;
  EXPECT_EQ(answer.substr(0, answer.find("pieces=") + 7), upload_prefix(body, true));
}

TEST_P(BodiesOfStreamingKinds, AStalledBodyIsCutOffWhileOthersAreServed) {
  ServeProcess serve({"-w", "1", "-k", GetParam(), "--body-buffer-size", "1000", "--header-timeout", "1"});
  HttpClient stalled(serve.port());
  stalled.send(request("POST", "/upload", "Content-Length: 1000000\r\n") + pattern(100'000));
  EXPECT_EQ(get(serve.port(), "/").status, 200);  // served meanwhile
  const auto began = std::chrono::steady_clock::now();
  const auto response = stalled.read_response();  // the cut: a 400, or only the close
  EXPECT_TRUE(response.status == 0 || response.status == 400) << response.status;
  EXPECT_GE(std::chrono::steady_clock::now() - began, 500ms);
  EXPECT_EQ(get(serve.port(), "/").status, 200);
}

INSTANTIATE_TEST_SUITE_P(Kinds, BodiesOfStreamingKinds, testing::Values("gthread", "asyncio"));

}  // namespace
