// Runs a scenario of a helper program (tests/helpers/) in a child process: behaviour at
// process exit and after fork() needs a process of its own.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace pyconc::testing {

struct Outcome {
  int exit_code;
  std::string output;  // stdout and stderr together
};

// Runs `program scenario` and collects what it printed and how it exited.
inline Outcome run_program(const std::string& program, const std::string& name) {
  // ThreadSanitizer refuses to start threads in a child of a multi-threaded fork unless
  // told otherwise; the fork scenario does exactly that on purpose. The scenarios also exit
  // while daemon threads run, as Python allows: a daemon thread stopped between another
  // thread's end and its join is the abandonment Python documents, not a thread leak.
  const char* tsan = std::getenv("TSAN_OPTIONS");
  const std::string env = "TSAN_OPTIONS='" + std::string(tsan ? tsan : "") +
                          " die_after_fork=0 report_thread_leaks=0' ";
  const std::string command = env + program + " " + name + " 2>&1";
  std::FILE* pipe = popen(command.c_str(), "r");
  EXPECT_NE(pipe, nullptr);
  std::string output;
  char buf[256];
  while (pipe && std::fgets(buf, sizeof buf, pipe)) output += buf;
  const int status = pipe ? pclose(pipe) : -1;
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

#ifdef PYCONC_EXIT_SCENARIOS
inline Outcome run_scenario(const std::string& name) { return run_program(PYCONC_EXIT_SCENARIOS, name); }
#endif

}  // namespace pyconc::testing
