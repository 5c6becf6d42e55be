// Internal: the process-wide list of live threads (Python's threading._active), the
// shutdown sequence at exit and the fork hooks. Never destroyed, so daemon threads that
// outlive main() never touch a dead registry.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "thread_state.hpp"

namespace pyconc::threading::detail {

class Registry {
 public:
  static Registry& instance();

  void add(std::shared_ptr<ThreadState> state);
  void remove(ThreadState* state);
  std::vector<Thread> live_threads();
  std::size_t size();
  std::shared_ptr<ThreadState> main();
  void set_main(std::shared_ptr<ThreadState> state);
  void add_atexit(std::function<void()> fn);
  // fn runs at process exit after every non-daemon thread has been joined, newest first
  // (multiprocessing's exit function: Python runs it after threading._shutdown).
  void add_after_join(std::function<void()> fn);
  // Called by Thread::start(): makes sure the exit sequence is registered.
  void arm_shutdown();
  // The exit sequence, now: for a forked child process, which ends with _exit().
  static void shutdown_now() { shutdown(); }
  Lock& lock() { return lock_; }

 private:
  Registry();
  static void shutdown();
  static void before_fork();
  static void after_fork_in_parent();
  static void after_fork_in_child();

  Lock lock_;
  std::vector<std::shared_ptr<ThreadState>> active_;
  std::shared_ptr<ThreadState> main_;
  std::vector<std::function<void()>> atexit_hooks_;
  std::vector<std::function<void()>> after_join_hooks_;
  bool shutting_down_ = false;
};

}  // namespace pyconc::threading::detail
