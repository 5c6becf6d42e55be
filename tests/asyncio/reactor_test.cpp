// The reactor's events as the loop reports them: readers, writers, signals, and Ctrl-C
// during run().
#include <gmock/gmock.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <functional>
#include <string>
#include <thread>

#include "pyconc/asyncio.hpp"

namespace asyncio = pyconc::asyncio;
using namespace std::chrono_literals;

namespace {

struct SocketPair {
  int fds[2] = {-1, -1};
  SocketPair() { EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0); }
  ~SocketPair() {
    ::close(fds[0]);
    ::close(fds[1]);
  }
};

// covers LOOP-12: a reader runs at every iteration while data is unread (level-triggered);
// adding again replaces it; remove_reader says whether one was removed; a writer runs while
// the socket can take data.
TEST(Reactor, ReadersAreLevelTriggeredAndReplaceable) {
  asyncio::EventLoop loop;
  SocketPair pair;
  ASSERT_EQ(::write(pair.fds[1], "x", 1), 1);
  int first = 0, second = 0;
  loop.add_reader(pair.fds[0], [&] {
    if (++first == 3) {  // nothing was read: it keeps firing
      loop.add_reader(pair.fds[0], [&](int n) {
        second += n;
        char c;
        EXPECT_EQ(::read(pair.fds[0], &c, 1), 1);
        EXPECT_TRUE(loop.remove_reader(pair.fds[0]));
        loop.stop();
      }, 1);
    }
  });
  loop.run_forever();
  EXPECT_EQ(first, 3);
  EXPECT_EQ(second, 1);
  EXPECT_FALSE(loop.remove_reader(pair.fds[0]));
  int writable = 0;
  loop.add_writer(pair.fds[1], [&] {
    ++writable;
    loop.remove_writer(pair.fds[1]);
    loop.stop();
  });
  loop.run_forever();
  EXPECT_EQ(writable, 1);
  EXPECT_THROW(loop.add_reader(-5, [] {}), pyconc::OSError);
  loop.close();
  EXPECT_THROW(loop.add_reader(pair.fds[0], [] {}), pyconc::RuntimeError);
  EXPECT_FALSE(loop.remove_reader(pair.fds[0]));
}

// covers LOOP-13: a signal handler runs as an ordinary callback and wakes a waiting loop;
// SIGKILL and bad numbers are refused; remove_signal_handler says whether one was set.
TEST(Reactor, SignalHandlersRunAsLoopCallbacks) {
  asyncio::EventLoop loop;
  int got = 0;
  loop.add_signal_handler(SIGUSR1, [&](int tag) {
    got = tag;
    loop.stop();
  }, 7);
  loop.call_soon([] { ::kill(::getpid(), SIGUSR1); });
  loop.run_forever();  // nothing else is scheduled: the signal's arrival ends the wait
  EXPECT_EQ(got, 7);
  EXPECT_TRUE(loop.remove_signal_handler(SIGUSR1));
  EXPECT_FALSE(loop.remove_signal_handler(SIGUSR1));
  EXPECT_THROW(loop.add_signal_handler(SIGKILL, [] {}), pyconc::RuntimeError);
  EXPECT_THROW(loop.add_signal_handler(0, [] {}), pyconc::ValueError);
  EXPECT_THROW(loop.add_signal_handler(100000, [] {}), pyconc::ValueError);
  loop.close();
}

// covers RUN-04: Ctrl-C during run() cancels the main task (and what it awaits) and run()
// raises KeyboardInterrupt; when the main task was being cancelled anyway, CancelledError.
TEST(Run, CtrlCCancelsTheMainTaskAndRaisesKeyboardInterrupt) {
  bool sleep_cancelled = false;
  EXPECT_THROW(asyncio::run([&]() -> asyncio::Coroutine<void> {
    ::kill(::getpid(), SIGINT);
    try {
      co_await asyncio::sleep(1h);
    } catch (const asyncio::CancelledError&) {
      sleep_cancelled = true;
      throw;
    }
  }),
               pyconc::KeyboardInterrupt);
  EXPECT_TRUE(sleep_cancelled);
  EXPECT_THROW(asyncio::run([]() -> asyncio::Coroutine<void> {
    asyncio::current_task()->cancel();  // a cancel request for another reason...
    try {
      co_await asyncio::sleep(1h);
    } catch (const asyncio::CancelledError&) {
      // ...caught and not taken back: cancelling() stays 1
    }
    ::kill(::getpid(), SIGINT);
    co_await asyncio::sleep(1h);
  }),
               asyncio::CancelledError);
  struct sigaction after {};
  ::sigaction(SIGINT, nullptr, &after);
  EXPECT_EQ(after.sa_handler, SIG_DFL);  // the default action is back
}

// covers LOOP-12 on a busy loop: a callback that always reschedules itself (a task looping
// on sleep(0)) keeps the ready queue full, so the loop polls the reactor only every few dozen
// callbacks, not every iteration; a reader still fires, a bounded number of callbacks after
// its data arrived, and a thread's call_soon_threadsafe callbacks still run.
TEST(Reactor, ABusyLoopStillPollsReadersAndTheThreadsafeInbox) {
  for (int trial = 0; trial < 20; ++trial) {
    asyncio::EventLoop loop;
    SocketPair pair;
    std::atomic<bool> written{false};
    std::atomic<int> from_thread{0};
    pyconc::threading::Event spinning;
    long spins = 0, spins_when_written = -1, spins_when_read = -1;
    std::function<void()> spin = [&] {
      ++spins;
      if (spins == 1) spinning.set();
      if (spins_when_written < 0 && written.load()) spins_when_written = spins;
      const bool done = spins_when_read >= 0 && spins_when_written >= 0 && from_thread.load() == 50;
      if (done || spins > 50'000'000) return loop.stop();  // the bound only ends a failing run
      loop.call_soon(spin);
    };
    loop.call_soon(spin);
    loop.add_reader(pair.fds[0], [&] {
      char c;
      EXPECT_EQ(::read(pair.fds[0], &c, 1), 1);
      spins_when_read = spins;
      loop.remove_reader(pair.fds[0]);
    });
    std::thread writer([&] {
      spinning.wait();
      if (trial % 2) std::this_thread::sleep_for(std::chrono::microseconds(trial * 50));
      for (int i = 0; i < 50; ++i) loop.call_soon_threadsafe([&] { ++from_thread; });
      EXPECT_EQ(::write(pair.fds[1], "x", 1), 1);
      written = true;  // the data is there: from now on the next poll sees it
    });
    loop.run_forever();
    writer.join();
    ASSERT_GE(spins_when_read, 0) << "the reader never fired while callbacks were ready";
    ASSERT_GE(spins_when_written, 0);
    EXPECT_LE(spins_when_read - spins_when_written, 200) << "the reactor was polled too rarely";
    EXPECT_EQ(from_thread.load(), 50);
    loop.close();
  }
}

}  // namespace
