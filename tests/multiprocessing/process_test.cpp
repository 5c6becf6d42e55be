// multiprocessing.Process under every start method: life cycle, exit codes, signals,
// close, sentinel, identity and the family (spec PRC-01..14).
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <thread>

#include "mp_support.hpp"
#include "pyconc/threading.hpp"
#include "pyconc/timeout.hpp"

namespace mp = pyconc::multiprocessing;
using namespace std::chrono_literals;
using pyconc::testing::TempPath;
using pyconc::testing::write_file;

namespace {

// ---- targets: plain functions, so that every start method can run them ----

void write_text(std::string path, std::string text) { write_file(path, text); }

// Runs until `release` exists (the parent's signal that it has looked).
void wait_for_file(std::string release) {
  while (::access(release.c_str(), F_OK) != 0) std::this_thread::sleep_for(1ms);
}

void sleep_forever() {
  for (;;) ::pause();
}

void throw_error() { throw std::runtime_error("실패!"); }
void exit_with(int code) { throw pyconc::SystemExit(code); }
void exit_with_message(std::string message) { throw pyconc::SystemExit(message); }
void exit_without_code() { throw pyconc::SystemExit(); }

void report_identity(std::string path) {
  const auto me = mp::current_process();
  const auto parent = mp::parent_process();
  write_file(path, me.name() + "|" + std::to_string(*me.pid()) + "|" + (me.daemon() ? "daemon" : "-") + "|" +
                       std::to_string(me.authkey().size()) + "|" + (parent ? parent->name() : "none") + "|" +
                       (parent ? std::to_string(*parent->pid()) : "0") + "|" +
                       (parent && parent->is_alive() ? "alive" : "dead") + "|" + me.authkey());
}

void add_and_write(std::string path, int a, std::vector<int> more, std::string label) {
  int sum = a;
  for (int x : more) sum += x;
  write_file(path, label + "=" + std::to_string(sum));
}

class ProcessTest : public pyconc::testing::EveryStartMethod {};
PYCONC_EVERY_START_METHOD(ProcessTest);

// covers PRC-01: exitcode is empty before start and while running, 0 after a normal return;
// is_alive is false before start, true while running, false after join.
TEST_P(ProcessTest, LifeCycleAndExitCode) {
  TempPath release("release");
  auto p = context().Process(wait_for_file, release.path());
  EXPECT_FALSE(p.is_alive());
  EXPECT_EQ(p.exitcode(), std::nullopt);
  EXPECT_EQ(p.pid(), std::nullopt);
  p.start();
  EXPECT_TRUE(p.is_alive());
  EXPECT_EQ(p.exitcode(), std::nullopt);
  EXPECT_GT(*p.pid(), 0);
  write_file(release.path(), "go");
  p.join();
  EXPECT_FALSE(p.is_alive());
  EXPECT_EQ(p.exitcode(), 0);
}

// covers PRC-03: the target receives its arguments (converted to its parameter types).
TEST_P(ProcessTest, TargetReceivesArguments) {
  TempPath out("args");
  auto p = context().Process(add_and_write, out.path(), 1, std::vector<int>{2, 3, 4}, "sum");
  p.start();
  p.join();
  EXPECT_EQ(p.exitcode(), 0);
  EXPECT_EQ(out.read(), "sum=10");
}

// covers PRC-04: terminate() gives -SIGTERM, kill() -SIGKILL.
TEST_P(ProcessTest, TerminateAndKill) {
  auto a = context().Process(sleep_forever);
  auto b = context().Process(sleep_forever);
  a.start();
  b.start();
  a.terminate();
  b.kill();
  a.join();
  b.join();
  EXPECT_EQ(a.exitcode(), -SIGTERM);
  EXPECT_EQ(b.exitcode(), -SIGKILL);
  a.terminate();  // after the end: nothing happens
  b.kill();
}

// covers PRC-05: join(timeout) returns after the timeout with the child still running; join(0) and
// a negative timeout return at once.
TEST_P(ProcessTest, JoinTimeouts) {
  auto p = context().Process(sleep_forever);
  p.start();
  const auto start = std::chrono::steady_clock::now();
  p.join(0s);
  p.join(-1s);
  p.join(100ms);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 100ms);
  EXPECT_TRUE(p.is_alive());
  p.kill();
  p.join();
  EXPECT_FALSE(p.is_alive());
}

// covers PRC-06, PRC-07: an uncaught exception gives exit code 1; SystemExit's code is the exit
// code (none → 0, int → that int, a message → 1).
TEST_P(ProcessTest, ExitCodes) {
  auto failing = context().Process(throw_error);
  auto three = context().Process(exit_with, 3);
  auto message = context().Process(exit_with_message, std::string("bye"));
  auto none = context().Process(exit_without_code);
  for (auto* p : {&failing, &three, &message, &none}) p->start();
  for (auto* p : {&failing, &three, &message, &none}) p->join();
  EXPECT_EQ(failing.exitcode(), 1);
  EXPECT_EQ(three.exitcode(), 3);
  EXPECT_EQ(message.exitcode(), 1);
  EXPECT_EQ(none.exitcode(), 0);
}

// covers PRC-08: starting twice, or joining before start, is an AssertionError.
TEST_P(ProcessTest, StartTwiceAndJoinBeforeStart) {
  auto p = context().Process(exit_with, 0);
  EXPECT_THROW(p.join(), pyconc::AssertionError);
  p.start();
  EXPECT_THROW(p.start(), pyconc::AssertionError);
  p.join();
  EXPECT_THROW(p.start(), pyconc::AssertionError);
}

// covers PRC-09: close() refuses while the process runs; afterwards is_alive, join and terminate
// raise ValueError; close is idempotent.
TEST_P(ProcessTest, Close) {
  auto p = context().Process(sleep_forever);
  p.start();
  EXPECT_THROW(p.close(), pyconc::ValueError);
  p.kill();
  p.join();
  p.close();
  p.close();
  EXPECT_THROW(p.is_alive(), pyconc::ValueError);
  EXPECT_THROW(p.join(), pyconc::ValueError);
  EXPECT_THROW(p.terminate(), pyconc::ValueError);
  EXPECT_THROW(p.sentinel(), pyconc::ValueError);
}

// covers PRC-10: sentinel is a ValueError before start, then a descriptor that becomes readable
// when the process ends.
TEST_P(ProcessTest, Sentinel) {
  TempPath release("release");
  auto p = context().Process(wait_for_file, release.path());
  EXPECT_THROW(p.sentinel(), pyconc::ValueError);
  p.start();
  pollfd watch{p.sentinel(), POLLIN, 0};
  EXPECT_EQ(::poll(&watch, 1, 0), 0);
  write_file(release.path(), "go");
  EXPECT_EQ(::poll(&watch, 1, 60'000), 1);
  p.join();
  EXPECT_EQ(p.exitcode(), 0);
}

// covers PRC-11, PRC-14: the child knows itself (name, pid, the authkey it inherited) and its
// parent (name, pid, alive); the top process has no parent.
TEST_P(ProcessTest, IdentityAndParent) {
  EXPECT_EQ(mp::parent_process(), std::nullopt);
  const auto me = mp::current_process();
  EXPECT_TRUE(me.is_alive());
  EXPECT_FALSE(me.daemon());
  EXPECT_EQ(me.pid(), ::getpid());
  EXPECT_EQ(me.authkey().size(), 32u);
  TempPath out("identity");
  auto p = context().Process(mp::ProcessOptions{.name = "reporter", .daemon = true}, report_identity, out.path());
  p.start();
  p.join();
  ASSERT_EQ(p.exitcode(), 0);
  const std::string expected = "reporter|" + std::to_string(*p.pid()) + "|daemon|32|" + me.name() + "|" +
                               std::to_string(::getpid()) + "|alive|" + me.authkey();
  EXPECT_EQ(out.read(), expected);
}

// Names: "Process-N", counted in the creating process.
TEST_P(ProcessTest, DefaultNamesCount) {
  auto a = context().Process(exit_with, 0);
  auto b = context().Process(exit_with, 0);
  ASSERT_EQ(a.name().rfind("Process-", 0), 0u);
  EXPECT_EQ(std::stoi(b.name().substr(8)), std::stoi(a.name().substr(8)) + 1);
}

void watch_parent(std::string path) {
  const auto parent = mp::parent_process();
  for (int i = 0; i < 60'000 && parent->is_alive(); ++i) std::this_thread::sleep_for(1ms);
  write_file(path, parent->is_alive() ? "parent still alive" : "parent dead");
}

void start_watcher_then_hang(std::string method, std::string ready, std::string path) {
  auto watcher = mp::get_context(method).Process(watch_parent, path);
  watcher.start();
  write_file(ready, "ready");
  sleep_forever();
}

// covers PRC-11: parent_process() reports not-alive once the parent has died (here: killed
// while its child watches it).
TEST_P(ProcessTest, ParentDeathIsSeen) {
  TempPath ready("ready"), out("watch");
  auto middle = context().Process(start_watcher_then_hang, GetParam(), ready.path(), out.path());
  middle.start();
  ASSERT_TRUE(ready.wait_exists());
  middle.kill();
  middle.join();
  ASSERT_TRUE(out.wait_exists());
  EXPECT_EQ(out.read(), "parent dead");
}

// covers PRC-02: active_children() lists a process only while it is alive.
TEST_P(ProcessTest, ActiveChildren) {
  auto p = context().Process(sleep_forever);
  auto listed = [&] {
    for (auto& c : mp::active_children())
      if (c == p) return true;
    return false;
  };
  EXPECT_FALSE(listed());
  p.start();
  EXPECT_TRUE(listed());
  p.kill();
  p.join();
  EXPECT_FALSE(listed());
}

void start_grandchild_and_report(std::string method, std::string path) {
  // PRC-13: a daemonic process may not start children.
  auto child = mp::get_context(method).Process(exit_with, 0);
  try {
    child.start();
    write_file(path, "started");
  } catch (const pyconc::AssertionError& e) {
    write_file(path, e.what());
  }
}

TEST_P(ProcessTest, DaemonMayNotHaveChildren) {
  TempPath out("daemon");
  auto p = context().Process(mp::ProcessOptions{.daemon = true}, start_grandchild_and_report, GetParam(), out.path());
  p.start();
  p.join();
  EXPECT_EQ(out.read(), "daemonic processes are not allowed to have children");
}

void thread_then_return(std::string path) {
  pyconc::threading::Thread t([path] {
    std::this_thread::sleep_for(200ms);
    write_file(path, "thread finished");
  });
  t.start();
}

// covers PRC-12: a child waits for its own non-daemon threads before it ends.
TEST_P(ProcessTest, ChildWaitsForItsThreads) {
  TempPath out("thread");
  auto p = context().Process(thread_then_return, out.path());
  p.start();
  p.join();
  EXPECT_EQ(p.exitcode(), 0);
  EXPECT_EQ(out.read(), "thread finished");
}

// Many processes started and joined from several threads at once: each is reaped once and
// reports its own exit code.
TEST_P(ProcessTest, ConcurrentStartsFromThreads) {
  if (fork_with_threads_unsupported()) GTEST_SKIP() << "fork while threads allocate: not under sanitizers";
  constexpr int kThreads = 4, kEach = 6;
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        auto p = context().Process(exit_with, (t * kEach + i) % 100);
        p.start();
        if (i % 2) std::this_thread::yield();
        p.join();
        if (p.exitcode() != (t * kEach + i) % 100) ++wrong;
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0);
}

// Closing a Process while other threads look at it: active_children() (which reaps) and
// exitcode() run in two threads while the owner joins and closes each child. The waiters keep
// the child's Popen alive until they return (TSan and ASan saw close() free it under them).
TEST_P(ProcessTest, CloseWhileOtherThreadsReap) {
  if (fork_with_threads_unsupported()) GTEST_SKIP() << "fork while threads allocate: not under sanitizers";
  constexpr int kChildren = 12;
  std::atomic<bool> done{false};
  std::mutex current_lock;
  std::optional<mp::Process> current;
  std::thread reaper([&] {
    while (!done.load()) mp::active_children();
  });
  std::thread watcher([&] {
    while (!done.load()) {
      std::optional<mp::Process> seen;
      {
        std::scoped_lock hold(current_lock);
        seen = current;
      }
      if (!seen) {
        std::this_thread::yield();
        continue;
      }
      try {
        (void)seen->exitcode();
      } catch (const pyconc::ValueError&) {  // closed meanwhile: Python says the same
      }
    }
  });
  int wrong = 0;
  for (int i = 0; i < kChildren; ++i) {
    auto p = context().Process(exit_with, i);
    p.start();
    {
      std::scoped_lock hold(current_lock);
      current = p;
    }
    p.join();
    if (p.exitcode() != i) ++wrong;
    p.close();
  }
  done = true;
  reaper.join();
  watcher.join();
  EXPECT_EQ(wrong, 0);
}

}  // namespace
