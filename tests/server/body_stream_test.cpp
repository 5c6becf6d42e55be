// A streamed request body (server/body_stream.hpp) on a real event loop, its bytes fed to a
// StreamReader as a socket would: pieces in order, the end, every misuse and every way a body
// breaks off, and a reader on another thread woken when the request ends.
#include "server/body_stream.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <thread>

#include "pyconc/asyncio.hpp"
#include "body_text.hpp"
#include "pyconc/errors.hpp"

namespace {

namespace asyncio = pyconc::asyncio;
using pyconc::server::detail::ConnectionInput;
using pyconc::server::detail::discard_rest;
using pyconc::server::detail::HttpLimits;
using pyconc::server::detail::RequestParser;
using pyconc::server::detail::StreamedBody;
using namespace std::chrono_literals;
using server_test::chunked;
using server_test::pattern;

// A connection whose request head has been parsed; its body is still to come on `reader`.
struct Connection {
  explicit Connection(const std::string& head, HttpLimits limits = {}) {
    input->parser = std::make_unique<RequestParser>(limits);
    input->buffer = head;
    input->parse_buffered();
  }
  // The body, as serve_http hands it over: what came with the head is the first piece.
  std::shared_ptr<StreamedBody> body(double read_timeout = 30) {
    std::string arrived = std::move(input->parser->request().body);
    input->parser->request().body.clear();
    return std::make_shared<StreamedBody>(input, asyncio::get_running_loop(), std::move(arrived), read_timeout);
  }
  asyncio::StreamReader reader;
  double deadline = 0;
  std::shared_ptr<ConnectionInput> input = std::make_shared<ConnectionInput>(reader, deadline);
};

// Feeds `bytes` in random pieces, yielding to the loop between them (as a socket's reads come).
asyncio::Coroutine<void> feed(asyncio::StreamReader reader, std::string bytes, unsigned seed, bool eof = false) {
  std::mt19937 random(seed);
  for (std::size_t at = 0; at < bytes.size();) {
    const std::size_t piece = std::uniform_int_distribution<std::size_t>(1, 40000)(random);
    reader.feed_data(std::string_view(bytes).substr(at, piece));
    at += piece;
    co_await asyncio::sleep(0ms);
  }
  if (eof) reader.feed_eof();
}

TEST(StreamedBody, HandsOverThePiecesAsTheyArriveThenNothing) {
  for (unsigned seed = 1; seed <= 20; ++seed) {
    const std::string body = pattern(300'000 + seed * 1'000);
    const bool is_chunked = seed % 2 == 0;
    const std::string head = "POST /up HTTP/1.1\r\nHost: h\r\n" +
                             (is_chunked ? std::string("Transfer-Encoding: chunked\r\n")
                                         : "Content-Length: " + std::to_string(body.size()) + "\r\n") +
                             "\r\n";
    const std::string framed = is_chunked ? chunked(body, 5'000 + seed) : body;
    asyncio::run([&]() -> asyncio::Coroutine<void> {
      Connection connection(head + framed.substr(0, 100));
      auto stream = connection.body();
      auto feeding = asyncio::create_task(feed(connection.reader, framed.substr(100) + "GET /next", seed));
      std::string got;
      int pieces = 0;
      for (;;) {
        std::optional<std::string> piece = co_await stream->read_async();
        if (!piece) break;
        EXPECT_FALSE(piece->empty());
        got += *piece;
        ++pieces;
      }
      co_await feeding;
      EXPECT_EQ(got, body);
      EXPECT_GT(pieces, 2);
      EXPECT_TRUE(connection.input->parser->done());
      EXPECT_EQ(connection.deadline, 0);  // no wait is left armed
      // The next request's bytes wait, unparsed, for the connection.
      EXPECT_EQ(connection.input->buffer.substr(connection.input->offset), "GET /next");
      EXPECT_EQ(co_await stream->read_async(), std::nullopt);  // the end, again
    });
  }
}

TEST(StreamedBody, AThreadReadsThroughTheLoop) {
  const std::string body = pattern(1 << 20);
  asyncio::run([&]() -> asyncio::Coroutine<void> {
    Connection connection("PUT / HTTP/1.1\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n");
    auto stream = connection.body();
    auto feeding = asyncio::create_task(feed(connection.reader, body, 3));
    const auto loop_thread = std::this_thread::get_id();
    auto read_all = [stream, loop_thread] {
      EXPECT_NE(std::this_thread::get_id(), loop_thread);
      return stream->read_all();
    };
    EXPECT_EQ(co_await asyncio::to_thread(read_all), body);
    co_await feeding;
  });
}

TEST(StreamedBody, ABlockingReadOnTheLoopIsRefused) {
  asyncio::run([]() -> asyncio::Coroutine<void> {
    Connection connection("PUT / HTTP/1.1\r\nContent-Length: 10\r\n\r\n");
    auto stream = connection.body();
    EXPECT_THROW(stream->read(), pyconc::RuntimeError);
    connection.reader.feed_data("0123456789");
    EXPECT_EQ(co_await stream->read_all_async(), "0123456789");
  });
}

TEST(StreamedBody, FinishWakesAThreadStillWaitingAndRefusesLaterReads) {
  asyncio::run([]() -> asyncio::Coroutine<void> {
    Connection connection("PUT / HTTP/1.1\r\nContent-Length: 10\r\n\r\n");
    auto stream = connection.body();
    // Named: GCC 12 copies a lambda temporary inside co_await bitwise (docs/guide.md).
    auto read_on_a_thread = [stream] { return stream->read(); };
    auto waiting = asyncio::create_task(asyncio::to_thread(read_on_a_thread));
    while (!stream->reading()) co_await asyncio::sleep(1ms);  // the thread's read is on the loop
    EXPECT_GT(connection.deadline, 0);  // and waits under the watch's deadline
    stream->finish();
    EXPECT_THROW(co_await waiting, pyconc::RuntimeError);
    EXPECT_THROW(co_await stream->read_async(), pyconc::RuntimeError);
    EXPECT_THROW(co_await asyncio::to_thread(read_on_a_thread), pyconc::RuntimeError);
    // The loop's side of the abandoned read ends with the bytes it was waiting for.
    connection.reader.feed_data("0123456789");
    while (stream->reading()) co_await asyncio::sleep(1ms);
  });
}

TEST(StreamedBody, ASecondReadWhileOneWaitsIsRefused) {
  asyncio::run([]() -> asyncio::Coroutine<void> {
    Connection connection("PUT / HTTP/1.1\r\nContent-Length: 4\r\n\r\n");
    auto stream = connection.body();
    auto first = asyncio::create_task(stream->read_async());
    while (!stream->reading()) co_await asyncio::sleep(0ms);
    EXPECT_THROW(co_await stream->read_async(), pyconc::RuntimeError);
    connection.reader.feed_data("data");
    EXPECT_EQ(co_await first, std::optional<std::string>("data"));
  });
}

TEST(StreamedBody, ABodyThatBreaksOffRaisesConnectionError) {
  // The peer closes in the middle: a 400 for the client, ConnectionError for the handler.
  asyncio::run([]() -> asyncio::Coroutine<void> {
    Connection connection("PUT / HTTP/1.1\r\nContent-Length: 100000\r\n\r\n");
    auto stream = connection.body();
    auto feeding = asyncio::create_task(feed(connection.reader, pattern(50'000), 5, true));
    EXPECT_THROW(co_await stream->read_all_async(), pyconc::ConnectionError);
    EXPECT_EQ(connection.input->parser->error_status(), 400);
    co_await feeding;
  });
  // A chunked body past limit_request_body: 413.
  asyncio::run([]() -> asyncio::Coroutine<void> {
    HttpLimits limits;
    limits.body = 100'000;
    Connection connection("PUT / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", limits);
    auto stream = connection.body();
    auto feeding = asyncio::create_task(feed(connection.reader, chunked(pattern(150'000), 4'096), 6));
    EXPECT_THROW(co_await stream->read_all_async(), pyconc::ConnectionError);
    EXPECT_EQ(connection.input->parser->error_status(), 413);
    co_await feeding;
  });
  // A malformed chunk: 400.
  asyncio::run([]() -> asyncio::Coroutine<void> {
    Connection connection("PUT / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
    auto stream = connection.body();
    connection.reader.feed_data("4\r\nabcd\r\nzz\r\n");
    EXPECT_EQ(co_await stream->read_async(), std::optional<std::string>("abcd"));
    EXPECT_THROW(co_await stream->read_async(), pyconc::ConnectionError);
    EXPECT_EQ(connection.input->parser->error_status(), 400);
  });
}

TEST(StreamedBody, TheUnreadRestIsDiscardedUpToTheNextRequest) {
  asyncio::run([]() -> asyncio::Coroutine<void> {
    const std::string body = pattern(200'000);
    Connection connection("PUT / HTTP/1.1\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
                          body.substr(0, 10));
    auto stream = connection.body();
    EXPECT_EQ(co_await stream->read_async(), std::optional<std::string>(body.substr(0, 10)));
    stream->finish();
    auto feeding = asyncio::create_task(feed(connection.reader, body.substr(10) + "GET /next", 7));
    EXPECT_TRUE(co_await discard_rest(connection.input, 30));
    EXPECT_EQ(connection.input->buffer.substr(connection.input->offset), "GET /next");
    co_await feeding;
  });
  // The peer closes before the rest has come: the connection cannot go on.
  asyncio::run([]() -> asyncio::Coroutine<void> {
    Connection connection("PUT / HTTP/1.1\r\nContent-Length: 1000\r\n\r\n");
    connection.reader.feed_data("only this");
    connection.reader.feed_eof();
    EXPECT_FALSE(co_await discard_rest(connection.input, 30));
  });
}

}  // namespace
