// CpuBurners: CPU-bound processes (`sh -c 'while :; do :; done'`) that compete for the cores
// while a benchmark or a test runs, as other programs do on a shared machine. Started by
// the constructor, killed and reaped by the destructor, so none outlives its scope. Shared
// by bench/ (the --load K variant of every comparison) and the load regression tests.
#pragma once

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <vector>

extern char** environ;

namespace pyconc::testing {

class CpuBurners {
 public:
  explicit CpuBurners(int count) {
    for (int i = 0; i < count; ++i) {
      pid_t pid = 0;
      char sh[] = "sh", dash_c[] = "-c", loop[] = "while :; do :; done";
      char* argv[] = {sh, dash_c, loop, nullptr};
      if (posix_spawnp(&pid, "sh", nullptr, nullptr, argv, environ) == 0) pids_.push_back(pid);
    }
  }
  ~CpuBurners() {
    for (pid_t pid : pids_) kill(pid, SIGKILL);
    for (pid_t pid : pids_) waitpid(pid, nullptr, 0);
  }
  CpuBurners(const CpuBurners&) = delete;
  CpuBurners& operator=(const CpuBurners&) = delete;

  int running() const { return static_cast<int>(pids_.size()); }

 private:
  std::vector<pid_t> pids_;
};

}  // namespace pyconc::testing
