// Behaviour at process exit and after fork(), checked in child processes.
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>

#include "support.hpp"

namespace {

struct Outcome {
  int exit_code;
  std::string output;
};

Outcome run_scenario(const std::string& name) {
  // ThreadSanitizer refuses to start threads in a child of a multi-threaded fork unless
  // told otherwise; the fork scenario does exactly that on purpose.
  const char* tsan = std::getenv("TSAN_OPTIONS");
  const std::string env = "TSAN_OPTIONS='" + std::string(tsan ? tsan : "") + " die_after_fork=0' ";
  const std::string command = env + std::string(PYCONC_EXIT_SCENARIOS) + " " + name + " 2>&1";
  std::FILE* pipe = popen(command.c_str(), "r");
  EXPECT_NE(pipe, nullptr);
  std::string output;
  char buf[256];
  while (std::fgets(buf, sizeof buf, pipe)) output += buf;
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

// covers EXIT-01, EXIT-04
TEST(ProcessExit, NonDaemonThreadsAreWaitedFor) {
  const auto r = run_scenario("non_daemon_joined");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.output, "main returns\nworker finished\nlate worker finished\n");
}

// covers EXIT-02
TEST(ProcessExit, MainThreadCountsAsFinished) {
  const auto r = run_scenario("main_join_released");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.output, "main returns\nmain thread joined\n");
}

// covers EXIT-03
TEST(ProcessExit, DaemonThreadsAbandonedQuietly) {
  const auto r = run_scenario("daemon_abandoned");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.output, "main returns\n");
}

// covers EXIT-05
TEST(ProcessExit, ShutdownHooksRunFirstNewestFirst) {
  const auto r = run_scenario("atexit_hooks");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.output, "main returns\nhook 2\nhook 1\nworker released by hook\n");
  const auto late = run_scenario("atexit_after_shutdown");
  EXPECT_EQ(late.output, "RuntimeError during shutdown\n");
}

// covers EXIT-06
TEST(ProcessExit, MainThreadLocalsReadableAtExit) {
  const auto r = run_scenario("locals_at_exit");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.output, "local at exit: main's value\n");
}

// covers EXIT-07
TEST(ProcessExit, OnlyTheForkingThreadSurvivesFork) {
  const auto r = run_scenario("fork_from_thread");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.output.find("child: bystander alive=0 active_count=1 main_is_me=1"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("child: new thread ran"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("parent: child exit 0"), std::string::npos) << r.output;
}

}  // namespace
