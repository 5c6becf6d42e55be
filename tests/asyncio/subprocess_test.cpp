// Subprocesses through the event loop: real children (sh, cat, head), their pipes, exit
// codes and signals.
#include <gmock/gmock.h>
#include <signal.h>

#include <cerrno>
#include <string>
#include <vector>

#include "pyconc/asyncio.hpp"

namespace asyncio = pyconc::asyncio;
namespace sp = pyconc::asyncio::subprocess;
using namespace std::chrono_literals;

namespace {

// Until the loop has reaped the child (returncode set); the child's exit is not a wait.
asyncio::Coroutine<void> until_reaped(asyncio::Process proc) {
  while (!proc.returncode()) co_await asyncio::sleep(1ms);
}

// covers SUBP-01: PIPE gives streams, anything else none; the child reads what is written.
TEST(Subprocess, ExecWithPipes) {
  asyncio::run([]() -> asyncio::Coroutine<void> {
    auto proc = co_await asyncio::create_subprocess_exec("cat", {}, {.std_in = sp::PIPE, .std_out = sp::PIPE});
    EXPECT_GT(proc.pid(), 0);
    EXPECT_TRUE(proc.std_in() && proc.std_out());
    if (!proc.std_in() || !proc.std_out()) co_return;
    EXPECT_FALSE(proc.std_err());
    proc.std_in()->write("one\ntwo\n");
    co_await proc.std_in()->drain();
    EXPECT_EQ(co_await proc.std_out()->readline(), "one\n");
    proc.std_in()->close();
    EXPECT_EQ(co_await proc.std_out()->read(), "two\n");
    EXPECT_EQ(co_await proc.wait(), 0);
  });
}

// covers SUBP-01: the shell form, stderr=STDOUT merging, DEVNULL, env and cwd.
TEST(Subprocess, ShellMergedStderrEnvAndCwd) {
  asyncio::run([]() -> asyncio::Coroutine<void> {
    auto merged = co_await asyncio::create_subprocess_shell("echo out; echo err >&2",
                                                            {.std_out = sp::PIPE, .std_err = sp::STDOUT});
    EXPECT_FALSE(merged.std_err());
    auto output = co_await merged.communicate();
    EXPECT_EQ(*output.first, "out\nerr\n");
    EXPECT_FALSE(output.second);

    auto quiet = co_await asyncio::create_subprocess_shell("echo hidden; echo shown >&2",
                                                           {.std_out = sp::DEVNULL, .std_err = sp::PIPE});
    auto quiet_output = co_await quiet.communicate();
    EXPECT_FALSE(quiet_output.first);
    EXPECT_EQ(*quiet_output.second, "shown\n");

    asyncio::SubprocessOptions options{.std_out = sp::PIPE};
    options.env = std::map<std::string, std::string>{{"GREETING", "hej"}, {"PATH", "/usr/bin:/bin"}};
    options.cwd = "/tmp";
    auto env = co_await asyncio::create_subprocess_shell("echo $GREETING; pwd", options);
    EXPECT_EQ(*(co_await env.communicate()).first, "hej\n/tmp\n");
  });
}

// covers SUBP-01: a program that does not exist raises FileNotFoundError from the await;
// STDOUT for stdin is ValueError; a limit <= 0 is ValueError.
TEST(Subprocess, StartErrors) {
  asyncio::run([]() -> asyncio::Coroutine<void> {
    EXPECT_THROW(co_await asyncio::create_subprocess_exec("/no/such/program"), pyconc::FileNotFoundError);
    EXPECT_THROW(co_await asyncio::create_subprocess_exec("no-such-program-pyconc"), pyconc::FileNotFoundError);
    EXPECT_THROW(co_await asyncio::create_subprocess_exec("cat", {}, {.std_in = sp::STDOUT}), pyconc::ValueError);
    asyncio::SubprocessOptions bad_limit{.std_out = sp::PIPE};
    bad_limit.limit = 0;
    EXPECT_THROW(co_await asyncio::create_subprocess_exec("true", {}, bad_limit), pyconc::ValueError);
  });
}

// covers SUBP-02: returncode is empty while running; exit status, or -N for signal N;
// wait() may be awaited again.
TEST(Subprocess, ReturncodesAndSignals) {
  asyncio::run([]() -> asyncio::Coroutine<void> {
    auto three = co_await asyncio::create_subprocess_shell("exit 3");
    EXPECT_EQ(co_await three.wait(), 3);
    EXPECT_EQ(co_await three.wait(), 3);
    EXPECT_EQ(three.returncode(), 3);

    struct Case {
      int signum;
      const char* name;
    };
    std::vector<Case> cases;  // named: GCC 12 cannot keep a braced list across co_await
    cases.push_back({SIGKILL, "kill"});
    cases.push_back({SIGTERM, "terminate"});
    cases.push_back({SIGHUP, "send_signal"});
    for (Case c : cases) {
      auto proc = co_await asyncio::create_subprocess_exec("sleep", "30");
      EXPECT_FALSE(proc.returncode()) << c.name;
      if (c.signum == SIGKILL) {
        proc.kill();
      } else if (c.signum == SIGTERM) {
        proc.terminate();
      } else {
        proc.send_signal(SIGHUP);
      }
      EXPECT_EQ(co_await proc.wait(), -c.signum) << c.name;
    }
  });
}

// covers SUBP-03: communicate feeds the input, closes stdin, reads both streams, waits.
TEST(Subprocess, CommunicateFeedsAndReads) {
  asyncio::run([]() -> asyncio::Coroutine<void> {
    auto proc = co_await asyncio::create_subprocess_shell("cat; echo done >&2",
                                                          {.std_in = sp::PIPE, .std_out = sp::PIPE, .std_err = sp::PIPE});
    const std::string input(300 * 1024, 'q');  // more than any pipe buffer: both ways at once
    auto result = co_await proc.communicate(input);
    EXPECT_EQ(result.first->size(), input.size());
    EXPECT_EQ(*result.second, "done\n");
    EXPECT_EQ(proc.returncode(), 0);

    auto no_input = co_await asyncio::create_subprocess_exec("cat", {}, {.std_in = sp::PIPE, .std_out = sp::PIPE});
    EXPECT_EQ(*(co_await no_input.communicate()).first, "");
    // Input without stdin=PIPE is ignored (Python 3.13).
    auto ignored = co_await asyncio::create_subprocess_exec("true");
    auto nothing = co_await ignored.communicate("unused");
    EXPECT_FALSE(nothing.first);
    EXPECT_FALSE(nothing.second);
  });
}

// covers SUBP-03: a child that exits without reading its input is no error of communicate.
TEST(Subprocess, CommunicateIgnoresBrokenPipe) {
  asyncio::run([]() -> asyncio::Coroutine<void> {
    auto proc = co_await asyncio::create_subprocess_exec("true", {}, {.std_in = sp::PIPE});
    co_await until_reaped(proc);
    auto result = co_await proc.communicate(std::string(1 << 20, 'x'));
    EXPECT_FALSE(result.first);
    EXPECT_EQ(proc.returncode(), 0);
  });
}

// covers SUBP-04: output read line by line, also after the child exited; writing to the
// stdin of a child that has gone makes drain() raise.
TEST(Subprocess, ReadLinesAndWriteAfterExit) {
  asyncio::run([]() -> asyncio::Coroutine<void> {
    auto proc = co_await asyncio::create_subprocess_shell("for i in 1 2 3; do echo line $i; done",
                                                          {.std_in = sp::PIPE, .std_out = sp::PIPE});
    co_await until_reaped(proc);
    std::vector<std::string> lines;
    for (;;) {
      std::string line = co_await proc.std_out()->readline();
      if (line.empty()) break;
      lines.push_back(line);
    }
    EXPECT_THAT(lines, testing::ElementsAre("line 1\n", "line 2\n", "line 3\n"));
    bool raised = false;
    for (int i = 0; i < 100 && !raised; ++i) {
      proc.std_in()->write(std::string(64 * 1024, 'w'));
      try {
        co_await proc.std_in()->drain();
      } catch (const pyconc::BrokenPipeError&) {
        raised = true;
      } catch (const pyconc::ConnectionResetError&) {
        raised = true;
      }
      if (!raised) co_await asyncio::sleep(1ms);
    }
    EXPECT_TRUE(raised);
    EXPECT_EQ(co_await proc.wait(), 0);
  });
}

// covers SUBP-05: wait() does not read the pipes — a child that fills an unread pipe does not
// exit; reading lets it finish.
TEST(Subprocess, WaitDoesNotReadPipes) {
  asyncio::run([]() -> asyncio::Coroutine<void> {
    auto proc = co_await asyncio::create_subprocess_exec("head", "-c", "1000000", "/dev/zero", asyncio::SubprocessOptions{.std_out = sp::PIPE});
    EXPECT_THROW(co_await asyncio::wait_for(proc.wait(), 200ms), pyconc::TimeoutError);
    EXPECT_FALSE(proc.returncode());
    std::string all = co_await proc.std_out()->read();
    EXPECT_EQ(all.size(), 1000000u);
    EXPECT_EQ(co_await proc.wait(), 0);
  });
}

// covers SUBP-05 SUBP-06: a wait() begun before the exit returns only once every pipe is at
// EOF — here a grandchild keeps them open after the child was killed — and in between,
// signals do nothing; once reaped and closed, they raise ProcessLookupError.
TEST(Subprocess, WaitWaitsForPipesAndSignalsAfterExit) {
  asyncio::run([]() -> asyncio::Coroutine<void> {
    auto proc = co_await asyncio::create_subprocess_shell("exec 3<&0; (read go; echo late) <&3 & echo ready; exec sleep 30",
                                                          {.std_in = sp::PIPE, .std_out = sp::PIPE});
    auto waiting = asyncio::create_task(proc.wait());
    EXPECT_EQ(co_await proc.std_out()->readline(), "ready\n");  // the grandchild has started
    proc.kill();
    co_await until_reaped(proc);
    EXPECT_EQ(proc.returncode(), -SIGKILL);
    co_await asyncio::sleep(20ms);
    EXPECT_FALSE(waiting.done());  // the grandchild still holds the pipes
    proc.kill();                   // exited, not finished: nothing
    proc.std_in()->write("go\n");
    EXPECT_EQ(co_await proc.std_out()->read(), "late\n");
    EXPECT_EQ(co_await waiting, -SIGKILL);
    EXPECT_THROW(proc.send_signal(SIGTERM), pyconc::ProcessLookupError);

    auto done = co_await asyncio::create_subprocess_exec("true", {}, {.std_out = sp::PIPE});
    co_await done.communicate();
    EXPECT_THROW(done.kill(), pyconc::ProcessLookupError);
  });
}

// covers SUBP-07: cancelling a task blocked in wait() leaves the child alone; it can be
// waited for again.
TEST(Subprocess, CancelledWaitLeavesTheChild) {
  asyncio::run([]() -> asyncio::Coroutine<void> {
    auto proc = co_await asyncio::create_subprocess_exec("sleep", "30");
    auto waiting = asyncio::create_task(proc.wait());
    co_await asyncio::sleep(10ms);
    waiting.cancel();
    EXPECT_THROW(co_await waiting, asyncio::CancelledError);
    EXPECT_FALSE(proc.returncode());
    EXPECT_EQ(::kill(proc.pid(), 0), 0);  // still running
    proc.terminate();
    EXPECT_EQ(co_await proc.wait(), -SIGTERM);
  });
}

// A loop that ends while a child runs kills and reaps it: no zombie is left (kill(pid, 0)
// answers for a zombie, ESRCH only once it is reaped).
TEST(Subprocess, ClosedLoopReapsItsChildren) {
  int pid = 0;
  asyncio::run([&pid]() -> asyncio::Coroutine<void> {
    auto proc = co_await asyncio::create_subprocess_exec("sleep", "30");
    pid = proc.pid();
  });
  ASSERT_GT(pid, 0);
  errno = 0;
  EXPECT_EQ(::kill(pid, 0), -1);
  EXPECT_EQ(errno, ESRCH);
}

// Many children at once, each fed and read concurrently: every output is its own.
TEST(Subprocess, ManyAtOnce) {
  asyncio::run([]() -> asyncio::Coroutine<void> {
    auto one = [](int i) -> asyncio::Coroutine<bool> {
      auto proc = co_await asyncio::create_subprocess_exec("cat", {}, {.std_in = sp::PIPE, .std_out = sp::PIPE});
      const std::string input = "child " + std::to_string(i) + "\n";
      if (i % 2) co_await asyncio::sleep(0s);
      auto result = co_await proc.communicate(input);
      co_return *result.first == input && proc.returncode() == 0;
    };
    std::vector<asyncio::Task<bool>> tasks;
    for (int i = 0; i < 30; ++i) tasks.push_back(asyncio::create_task(one(i)));
    int ok = 0;
    for (auto& task : tasks) ok += (co_await task) ? 1 : 0;
    EXPECT_EQ(ok, 30);
  });
}

}  // namespace
