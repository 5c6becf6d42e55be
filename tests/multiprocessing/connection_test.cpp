// Pipe and Connection (spec PIPE-01..08), in one process and across every start method.
#include <pthread.h>
#include <signal.h>

#include <chrono>
#include <thread>

#include "mp_support.hpp"

namespace mp = pyconc::multiprocessing;
using namespace std::chrono_literals;

namespace {

// covers PIPE-01: both ends of a duplex pipe send and receive objects and bytes.
TEST(Pipe, DuplexCarriesObjectsAndBytes) {
  auto [a, b] = mp::Pipe();
  a.send(std::vector<int>{1, 2, 3});
  EXPECT_EQ(b.recv<std::vector<int>>(), (std::vector<int>{1, 2, 3}));
  b.send(std::string("back"));
  EXPECT_EQ(a.recv<std::string>(), "back");
  a.send_bytes("raw");
  EXPECT_EQ(b.recv_bytes(), "raw");
}

// covers PIPE-01: a 16 MiB message round-trips (a thread reads while the other end writes).
TEST(Pipe, LargeMessageRoundTrips) {
  auto [a, b] = mp::Pipe();
  std::string big(16 << 20, 'x');
  big[777] = 'y';
  std::thread reader([b = b, &big]() mutable { EXPECT_EQ(b.recv_bytes(), big); });
  a.send_bytes(big);
  reader.join();
}

// covers PIPE-02: message boundaries are kept; an empty message is a message, and poll sees it.
TEST(Pipe, BoundariesAndEmptyMessages) {
  auto [a, b] = mp::Pipe();
  a.send_bytes("one");
  a.send_bytes("");
  a.send_bytes("three");
  EXPECT_EQ(b.recv_bytes(), "one");
  EXPECT_TRUE(b.poll());
  EXPECT_EQ(b.recv_bytes(), "");
  EXPECT_EQ(b.recv_bytes(), "three");
  EXPECT_FALSE(b.poll());
}

// covers PIPE-03: poll() and a negative timeout never block; poll(t) waits up to t; data stays
// pollable until read.
TEST(Pipe, PollTimeouts) {
  auto [a, b] = mp::Pipe();
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(b.poll());
  EXPECT_FALSE(b.poll(-1s));
  EXPECT_FALSE(b.poll(100ms));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 100ms);
  a.send(1);
  EXPECT_TRUE(b.poll());
  EXPECT_TRUE(b.poll(pyconc::forever));
  EXPECT_TRUE(b.poll());
  EXPECT_EQ(b.recv<int>(), 1);
  EXPECT_FALSE(b.poll());
}

// covers PIPE-04: once the other end has closed and nothing is buffered, recv raises EOFError;
// what was sent before the close is still delivered first. Sending to a closed peer is a
// BrokenPipeError (not SIGPIPE).
TEST(Pipe, EofAfterPeerClosed) {
  auto [a, b] = mp::Pipe();
  a.send(5);
  a.close();
  EXPECT_EQ(b.recv<int>(), 5);
  EXPECT_TRUE(b.poll());  // end of stream is "ready"
  EXPECT_THROW(b.recv<int>(), pyconc::EOFError);
  EXPECT_THROW(
      {
        for (int i = 0; i < 1000; ++i) b.send_bytes(std::string(1 << 16, 'x'));
      },
      pyconc::BrokenPipeError);
}

bool sigpipe_pending() {
  sigset_t pending;
  sigpending(&pending);
  return sigismember(&pending, SIGPIPE) == 1;
}

// covers PIPE-04 for a one-way Pipe, which is a pipe (no MSG_NOSIGNAL there): the writer gets
// BrokenPipeError; no SIGPIPE is delivered (SIGPIPE's default would end the test program)
// or left pending; a thread that blocks SIGPIPE itself keeps its mask and its own signal.
TEST(Pipe, OneWayWriterToAClosedReaderGetsBrokenPipe) {
  auto [reader, writer] = mp::Pipe(false);
  reader.close();
  EXPECT_THROW(writer.send(1), pyconc::BrokenPipeError);
  EXPECT_THROW(writer.send_bytes(std::string(1 << 20, 'x')), pyconc::BrokenPipeError);
  EXPECT_FALSE(sigpipe_pending());
  std::thread blocking([w = writer]() mutable {
    sigset_t sigpipe, mask;
    sigemptyset(&sigpipe);
    sigaddset(&sigpipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &sigpipe, nullptr);
    pthread_kill(pthread_self(), SIGPIPE);  // its own, pending before the send
    EXPECT_TRUE(sigpipe_pending());
    EXPECT_THROW(w.send(2), pyconc::BrokenPipeError);
    EXPECT_TRUE(sigpipe_pending());  // still there: not ours to take
    pthread_sigmask(SIG_BLOCK, nullptr, &mask);
    EXPECT_TRUE(sigismember(&mask, SIGPIPE));
    const timespec no_wait{0, 0};
    EXPECT_EQ(sigtimedwait(&sigpipe, nullptr, &no_wait), SIGPIPE);
  });
  blocking.join();
}

// covers PIPE-05: recv_bytes_into returns the size; a buffer too small raises BufferTooShort
// carrying the whole message.
TEST(Pipe, RecvBytesInto) {
  auto [a, b] = mp::Pipe();
  std::vector<char> buffer(8, '.');
  a.send_bytes("abc");
  EXPECT_EQ(b.recv_bytes_into(buffer, 2), 3u);
  EXPECT_EQ(std::string(buffer.begin(), buffer.end()), "..abc...");
  a.send_bytes("0123456789");
  try {
    b.recv_bytes_into(buffer);
    FAIL();
  } catch (const mp::BufferTooShort& e) {
    EXPECT_EQ(e.message(), "0123456789");
  }
  a.send_bytes("next");
  EXPECT_EQ(b.recv_bytes(), "next");  // the stream is still in step
}

// covers PIPE-06: send_bytes sends a slice; an offset or size outside the buffer is a ValueError.
TEST(Pipe, SendBytesSlices) {
  auto [a, b] = mp::Pipe();
  a.send_bytes("abcdef", 2, 3);
  EXPECT_EQ(b.recv_bytes(), "cde");
  a.send_bytes("abcdef", 4);
  EXPECT_EQ(b.recv_bytes(), "ef");
  EXPECT_THROW(a.send_bytes("abc", 4), pyconc::ValueError);
  EXPECT_THROW(a.send_bytes("abc", 1, 3), pyconc::ValueError);
  EXPECT_FALSE(b.poll());
}

// covers PIPE-07: Pipe(duplex=false) is (reader, writer); the wrong direction is an OSError.
TEST(Pipe, OneWay) {
  auto [reader, writer] = mp::Pipe(false);
  EXPECT_TRUE(reader.readable());
  EXPECT_FALSE(reader.writable());
  EXPECT_THROW(reader.send(1), pyconc::OSError);
  EXPECT_THROW(writer.recv<int>(), pyconc::OSError);
  EXPECT_THROW(writer.poll(), pyconc::OSError);
  writer.send(std::string("one way"));
  EXPECT_EQ(reader.recv<std::string>(), "one way");
}

// covers PIPE-08: a closed connection raises OSError; closing is idempotent; the last handle's
// destruction closes it (the peer sees EOF); wait with a negative timeout returns at once.
TEST(Pipe, CloseAndWait) {
  auto [a, b] = mp::Pipe();
  a.close();
  a.close();
  EXPECT_TRUE(a.closed());
  EXPECT_THROW(a.recv<int>(), pyconc::OSError);
  EXPECT_THROW(a.send(1), pyconc::OSError);
  {
    auto [c, d] = mp::Pipe();
    EXPECT_TRUE(mp::connection::wait({c, d}, -1s).empty());
    d.send(1);
    const auto ready = mp::connection::wait({c, d}, 10s);
    ASSERT_EQ(ready.size(), 1u);
    EXPECT_EQ(ready[0], c);
    b = c;  // keep one end; the other (d) dies at the end of the scope
  }
  EXPECT_EQ(b.recv<int>(), 1);
  EXPECT_THROW(b.recv<int>(), pyconc::EOFError);
}

// Concurrent senders never interleave their messages.
TEST(Pipe, ConcurrentSendersKeepMessagesWhole) {
  auto [a, b] = mp::Pipe();
  constexpr int kThreads = 4, kEach = 500;
  std::vector<std::thread> senders;
  for (int t = 0; t < kThreads; ++t)
    senders.emplace_back([a = a, t]() mutable {
      for (int i = 0; i < kEach; ++i) a.send(std::vector<int>(1 + (i * 37) % 3000, t));
    });
  int received = 0;
  for (; received < kThreads * kEach; ++received) {
    const auto v = b.recv<std::vector<int>>();
    ASSERT_FALSE(v.empty());
    ASSERT_TRUE(std::all_of(v.begin(), v.end(), [&](int x) { return x == v[0]; }));
  }
  for (auto& s : senders) s.join();
  EXPECT_FALSE(b.poll());
}

// ---- across processes ----

void echo_twice(mp::Connection connection) {
  for (int i = 0; i < 2; ++i) connection.send(connection.recv<std::string>() + "!");
  connection.close();
}

class PipeAcrossProcesses : public pyconc::testing::EveryStartMethod {};
PYCONC_EVERY_START_METHOD(PipeAcrossProcesses);

TEST_P(PipeAcrossProcesses, ChildEchoesThenParentSeesEof) {
  auto [parent_end, child_end] = mp::Pipe();
  auto p = context().Process(echo_twice, child_end);
  p.start();
  child_end.close();  // the parent's copy: only the child holds that end now
  parent_end.send(std::string("hello"));
  EXPECT_EQ(parent_end.recv<std::string>(), "hello!");
  parent_end.send(std::string("again"));
  EXPECT_EQ(parent_end.recv<std::string>(), "again!");
  EXPECT_THROW(parent_end.recv<std::string>(), pyconc::EOFError);
  p.join();
  EXPECT_EQ(p.exitcode(), 0);
}

void send_big(mp::Connection writer, std::size_t size) { writer.send_bytes(std::string(size, 'z')); }

TEST_P(PipeAcrossProcesses, OneWayLargeMessageAndSentinelWait) {
  auto [reader, writer] = mp::Pipe(false);
  auto p = context().Process(send_big, writer, std::size_t(16) << 20);
  p.start();
  writer.close();
  EXPECT_EQ(reader.recv_bytes().size(), std::size_t(16) << 20);
  const auto ready = mp::connection::wait(std::vector<int>{p.sentinel()}, 60s);
  EXPECT_EQ(ready.size(), 1u);
  p.join();
  EXPECT_EQ(p.exitcode(), 0);
}

// A Connection means nothing outside a Process start: pickling it elsewhere is an error.
TEST(Pipe, ConnectionCrossesOnlyAsAProcessArgument) {
  auto [a, b] = mp::Pipe();
  EXPECT_THROW(pyconc::pickle::dumps(a), pyconc::pickle::PicklingError);
}

}  // namespace
