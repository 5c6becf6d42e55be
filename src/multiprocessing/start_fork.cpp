// The fork start method: the child is a copy of this process and runs the target in place.
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <new>
#include <string>

#include "process_state.hpp"
#include "pyconc/report.hpp"
#include "threading/registry.hpp"

namespace pyconc::multiprocessing::detail {

namespace {

long os_thread_count() {
  std::ifstream status("/proc/self/status");
  std::string key;
  while (status >> key) {
    if (key == "Threads:") {
      long n = 0;
      status >> n;
      return n;
    }
    status.ignore(1 << 16, '\n');
  }
  return 1;
}

// Python 3.12's warning (CTX-09), once per process: fork() copies only the calling thread,
// so a lock another thread held (in malloc, in a library) stays held in the child forever.
void warn_if_multithreaded() {
  static std::atomic<bool> warned{false};
  if (warned.load(std::memory_order_relaxed) || os_thread_count() <= 1) return;
  if (warned.exchange(true)) return;
  report("DeprecationWarning: This process (pid=" + std::to_string(::getpid()) +
         ") is multi-threaded, use of fork() may lead to deadlocks in the child.\n");
}

[[noreturn]] void run_forked_child(ProcessState& state, const std::string& parent_name) {
  // The forking thread held this state's lock; the child's copy is ours alone.
  new (&state.lock) std::mutex();
  const pid_t parent = state.creator;
  become_child(state.name, state.daemon, state.authkey, state.identity, parent, parent_name);
  const int code = run_child_target(state.target, state.name);
  // Python's child ends like a normal exit (threads joined, its own children waited for),
  // then os._exit: the parent's atexit handlers and static destructors are not ours to run.
  threading::detail::Registry::shutdown_now();
  std::fflush(nullptr);
  ::_exit(code);
}

}  // namespace

void start_by_fork(ProcessState& state) {
  warn_if_multithreaded();
  const std::string parent_name = current_process().name();
  const pid_t pid = ::fork();
  if (pid < 0) throw OSError(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) run_forked_child(state, parent_name);
  state.popen = std::make_shared<PidfdPopen>(pid);
}

}  // namespace pyconc::multiprocessing::detail
