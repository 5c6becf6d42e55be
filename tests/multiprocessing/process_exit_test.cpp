// Whole-program behaviour of multiprocessing, run in tests/helpers/mp_scenarios.cpp:
// freeze_support's rule, the fork warning, children at exit, the child's error report.
#include <signal.h>

#include <cerrno>

#include "mp_support.hpp"
#include "scenario.hpp"

namespace {

using pyconc::testing::run_program;

int count(const std::string& text, const std::string& part) {
  int n = 0;
  for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

class ProcessExit : public pyconc::testing::EveryStartMethod {};
PYCONC_EVERY_START_METHOD(ProcessExit);

// covers CTX-06: a program without freeze_support() gets a RuntimeError naming the fix from spawn and
// forkserver, and nothing is started (CTX-06's runaway cannot happen).
TEST(FreezeSupport, MissingFreezeSupportIsARuntimeErrorNamingTheFix) {
  for (std::string method : {"spawn", "forkserver"}) {
    const auto out = run_program(PYCONC_MP_SCENARIOS, "no_freeze_support:" + method);
    EXPECT_EQ(out.exit_code, 0) << out.output;
    EXPECT_NE(out.output.find("freeze_support() first thing in main()"), std::string::npos) << out.output;
    EXPECT_NE(out.output.find("children: 0"), std::string::npos) << out.output;
  }
  // fork needs nothing of the kind.
  const auto fork = run_program(PYCONC_MP_SCENARIOS, "no_freeze_support:fork");
  EXPECT_EQ(fork.exit_code, 1) << fork.output;  // it started: "started (wrong)" for this scenario
}

// covers CTX-09: fork from a multi-threaded process warns once; a single-threaded one is silent.
TEST(ForkWarning, WarnsOnceWhenMultiThreaded) {
  const auto threaded = run_program(PYCONC_MP_SCENARIOS, "fork_warning");
  EXPECT_EQ(threaded.exit_code, 0) << threaded.output;
  EXPECT_EQ(count(threaded.output, "is multi-threaded, use of fork() may lead to deadlocks"), 1) << threaded.output;
  const auto single = run_program(PYCONC_MP_SCENARIOS, "fork_single_threaded");
  EXPECT_EQ(single.exit_code, 0) << single.output;
  EXPECT_EQ(count(single.output, "multi-threaded"), 0) << single.output;
}

// covers PRC-13: at normal exit the daemon child is terminated (and reaped: its pid is gone) and
// the non-daemon child is waited for.
TEST_P(ProcessExit, DaemonChildrenTerminatedOthersJoined) {
  const auto out = run_program(PYCONC_MP_SCENARIOS, "children_at_exit:" + GetParam());
  EXPECT_EQ(out.exit_code, 0) << out.output;
  const auto returns = out.output.find("main returns");
  const auto finished = out.output.find("non-daemon child finished");
  ASSERT_NE(returns, std::string::npos) << out.output;
  ASSERT_NE(finished, std::string::npos) << out.output;
  EXPECT_LT(returns, finished);
  const auto at = out.output.find("daemon pid ");
  ASSERT_NE(at, std::string::npos);
  const pid_t daemon = std::stoi(out.output.substr(at + 11));
  // Under forkserver the server reaps it; give it a moment to report.
  for (int i = 0; i < 5000 && ::kill(daemon, 0) == 0; ++i) ::usleep(1000);
  EXPECT_EQ(::kill(daemon, 0), -1);
  EXPECT_EQ(errno, ESRCH);
}

// covers PRC-06: "Process <name>:" and the error on the child's stderr; exit code 1.
TEST_P(ProcessExit, ChildExceptionIsReported) {
  const auto out = run_program(PYCONC_MP_SCENARIOS, "exception_report:" + GetParam());
  EXPECT_EQ(out.exit_code, 0) << out.output;
  EXPECT_NE(out.output.find("Process Process-1:\nstd::runtime_error: 실패!"), std::string::npos) << out.output;
  EXPECT_NE(out.output.find("exitcode 1"), std::string::npos) << out.output;
}

// covers CTX-08: set_forkserver_preload names libraries a new forkserver loads once, so its
// children start with them; a name that does not load is skipped silently; a forkserver
// already running is not affected.
TEST(ForkserverPreload, LoadedInChildrenOfANewServerOnly) {
  const auto out = run_program(PYCONC_MP_SCENARIOS, "forkserver_preload");
  EXPECT_EQ(out.exit_code, 0) << out.output;
  EXPECT_NE(out.output.find("parent: not loaded"), std::string::npos) << out.output;
  EXPECT_NE(out.output.find("first child: loaded"), std::string::npos) << out.output;
  EXPECT_NE(out.output.find("late preload: not loaded"), std::string::npos) << out.output;
}

}  // namespace
