// StreamReader's buffer rules, fed by hand (as Python's test_streams does).
#include <gmock/gmock.h>

#include <string>
#include <vector>

#include "pyconc/asyncio.hpp"

namespace asyncio = pyconc::asyncio;
using namespace std::chrono_literals;

namespace {

// Runs `body` on a fresh loop with a reader of `limit`.
template <class F>
void with_reader(std::int64_t limit, F body) {
  asyncio::run([limit, body]() -> asyncio::Coroutine<void> {
    asyncio::StreamReader reader(limit);
    co_await body(reader);
  });
}

// covers STR-01: limit <= 0 is ValueError; read(0) is "" and consumes nothing; read(n)
// returns as soon as any data is there; "" at EOF.
TEST(StreamReader, ReadReturnsWhatIsThere) {
  EXPECT_THROW(asyncio::StreamReader(0), pyconc::ValueError);
  with_reader(100, [](asyncio::StreamReader& r) -> asyncio::Coroutine<void> {
    r.feed_data("abc");
    EXPECT_EQ(co_await r.read(0), "");
    EXPECT_EQ(r.buffered(), 3u);
    EXPECT_EQ(co_await r.read(2), "ab");
    EXPECT_EQ(co_await r.read(10), "c");
    auto later = asyncio::create_task(r.read(10));
    co_await asyncio::sleep(0s);
    r.feed_data("de");
    EXPECT_EQ(co_await later, "de");
    r.feed_eof();
    EXPECT_EQ(co_await r.read(10), "");
  });
}

// covers STR-02: read() takes everything to EOF; the limit does not apply to read or
// readexactly.
TEST(StreamReader, ReadAllIgnoresTheLimit) {
  with_reader(2, [](asyncio::StreamReader& r) -> asyncio::Coroutine<void> {
    r.feed_data("0123456789");
    auto all = asyncio::create_task(r.read());
    co_await asyncio::sleep(0s);
    r.feed_data("ab");
    r.feed_eof();
    EXPECT_EQ(co_await all, "0123456789ab");
  });
  with_reader(2, [](asyncio::StreamReader& r) -> asyncio::Coroutine<void> {
    r.feed_data("0123456789");
    EXPECT_EQ(co_await r.readexactly(8), "01234567");
  });
}

// covers STR-03: readline waits across chunks; at EOF the partial last line, then "".
TEST(StreamReader, ReadlineAcrossChunksAndAtEof) {
  with_reader(100, [](asyncio::StreamReader& r) -> asyncio::Coroutine<void> {
    auto line = asyncio::create_task(r.readline());
    r.feed_data("hel");
    co_await asyncio::sleep(0s);
    r.feed_data("lo\nwor");
    EXPECT_EQ(co_await line, "hello\n");
    r.feed_data("ld");
    r.feed_eof();
    EXPECT_EQ(co_await r.readline(), "world");
    EXPECT_EQ(co_await r.readline(), "");
    EXPECT_TRUE(r.at_eof());
  });
}

// covers STR-04: an over-long line is ValueError; with its '\n' buffered, it is discarded and
// the rest kept, else the buffer is cleared; exactly limit bytes plus '\n' is accepted.
TEST(StreamReader, OverLongLines) {
  with_reader(4, [](asyncio::StreamReader& r) -> asyncio::Coroutine<void> {
    r.feed_data("abcdefg\nnext\n");
    EXPECT_THROW(co_await r.readline(), pyconc::ValueError);
    EXPECT_EQ(co_await r.readline(), "next\n");  // exactly the limit, plus '\n'
    r.feed_data("0123456789");
    EXPECT_THROW(co_await r.readline(), pyconc::ValueError);
    EXPECT_EQ(r.buffered(), 0u);
  });
}

// covers STR-05, STR-06, STR-16: readuntil needs a separator; finds one straddling chunks;
// EOF without it is IncompleteReadError with everything; over the limit LimitOverrunError
// keeps the buffer; several separators give the shortest match.
TEST(StreamReader, Readuntil) {
  with_reader(100, [](asyncio::StreamReader& r) -> asyncio::Coroutine<void> {
    EXPECT_THROW(co_await r.readuntil(""), pyconc::ValueError);
    auto head = asyncio::create_task(r.readuntil("\r\n\r\n"));
    r.feed_data("GET / HTTP/1.1\r\n\r");
    co_await asyncio::sleep(0s);
    r.feed_data("\nbody");
    EXPECT_EQ(co_await head, "GET / HTTP/1.1\r\n\r\n");
    const std::vector<std::string> dy_or_o{"dy", "o"};
    EXPECT_EQ(co_await r.readuntil(dy_or_o), "bo");
    r.feed_eof();
    try {
      co_await r.readuntil("!");
      ADD_FAILURE();
    } catch (const asyncio::IncompleteReadError& e) {
      EXPECT_EQ(e.partial(), "dy");
      EXPECT_EQ(e.expected(), std::nullopt);
    }
    EXPECT_EQ(r.buffered(), 0u);
  });
  with_reader(3, [](asyncio::StreamReader& r) -> asyncio::Coroutine<void> {
    r.feed_data("abcdef!");
    try {
      co_await r.readuntil("!");
      ADD_FAILURE();
    } catch (const asyncio::LimitOverrunError& e) {
      EXPECT_STREQ(e.what(), "Separator is found, but chunk is longer than limit");
    }
    EXPECT_EQ(r.buffered(), 7u);  // kept
  });
  with_reader(3, [](asyncio::StreamReader& r) -> asyncio::Coroutine<void> {
    r.feed_data("abcdef");
    EXPECT_THROW(co_await r.readuntil("!"), asyncio::LimitOverrunError);  // at once: no separator, over the limit
  });
}

// covers STR-07: readexactly(0) is ""; negative is ValueError; an early EOF is
// IncompleteReadError with Python's message.
TEST(StreamReader, Readexactly) {
  with_reader(100, [](asyncio::StreamReader& r) -> asyncio::Coroutine<void> {
    EXPECT_EQ(co_await r.readexactly(0), "");
    EXPECT_THROW(co_await r.readexactly(-1), pyconc::ValueError);
    r.feed_data(std::string(18, 'x'));
    r.feed_eof();
    try {
      co_await r.readexactly(36);
      ADD_FAILURE();
    } catch (const asyncio::IncompleteReadError& e) {
      EXPECT_STREQ(e.what(), "18 bytes read on a total of 36 expected bytes");
      EXPECT_EQ(e.partial().size(), 18u);
      EXPECT_EQ(e.expected(), 36u);
    }
  });
}

// covers STR-08, STR-09: set_exception wakes a pending reader with it and later reads raise
// it; at_eof only after feed_eof and once drained.
TEST(StreamReader, ExceptionsAndEof) {
  with_reader(100, [](asyncio::StreamReader& r) -> asyncio::Coroutine<void> {
    r.feed_data("x");
    r.feed_eof();
    EXPECT_FALSE(r.at_eof());
    co_await r.read(1);
    EXPECT_TRUE(r.at_eof());
  });
  with_reader(100, [](asyncio::StreamReader& r) -> asyncio::Coroutine<void> {
    auto pending = asyncio::create_task(r.read(5));
    co_await asyncio::sleep(0s);
    r.set_exception(std::make_exception_ptr(pyconc::ConnectionResetError("lost")));
    EXPECT_THROW(co_await pending, pyconc::ConnectionResetError);
    EXPECT_THROW(co_await r.readline(), pyconc::ConnectionResetError);
    EXPECT_TRUE(r.exception());
  });
}

struct CountingTransport : asyncio::ReadTransport {
  int pauses = 0, resumes = 0;
  void pause_reading() override { ++pauses; }
  void resume_reading() override { ++resumes; }
  bool is_reading() const override { return pauses == resumes; }
};

// covers STR-15: above 2 x limit buffered the transport is paused, at limit resumed.
TEST(StreamReader, PausesItsTransportWhenFull) {
  with_reader(4, [](asyncio::StreamReader& r) -> asyncio::Coroutine<void> {
    CountingTransport transport;
    r.set_transport(&transport);
    r.feed_data("12345678");
    EXPECT_EQ(transport.pauses, 0);  // 8 is not above 2 x 4
    r.feed_data("9");
    EXPECT_EQ(transport.pauses, 1);
    co_await r.read(4);
    EXPECT_EQ(transport.resumes, 0);  // 5 left, above the limit
    co_await r.read(1);
    EXPECT_EQ(transport.resumes, 1);
    r.set_transport(nullptr);
  });
}

// A second reader waiting at the same time is RuntimeError, as in Python.
TEST(StreamReader, OneWaitingReaderAtATime) {
  with_reader(100, [](asyncio::StreamReader& r) -> asyncio::Coroutine<void> {
    auto first = asyncio::create_task(r.read(1));
    co_await asyncio::sleep(0s);
    EXPECT_THROW(co_await r.read(1), pyconc::RuntimeError);
    r.feed_data("a");
    EXPECT_EQ(co_await first, "a");
  });
}

}  // namespace
