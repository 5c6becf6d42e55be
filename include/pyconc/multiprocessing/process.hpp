// pyconc::multiprocessing::Process — Python's multiprocessing.Process, and the module
// functions around it (current_process, parent_process, active_children, freeze_support).
//
// A Process runs its target in a child process started by one of Python's start methods:
// fork (the child is a copy of this process and may run any callable), spawn (a fresh
// image of the same program) or forkserver (a copy of a small server process started once,
// as spawn). spawn and forkserver children get the target as a plain function and its
// arguments pickled, so `Process(f, args...)` requires exactly that, at compile time:
// f a function (no lambda with captures), every parameter pyconc::pickle::Picklable. A
// context chosen at run time (`get_context("fork").Process(...)`) takes any callable and,
// like Python, raises PicklingError from start() when its method cannot carry it.
//
// A spawned child runs main() again from the top: call freeze_support() first thing in
// main(), where the child takes over and never returns. Without it, start() with spawn or
// forkserver raises RuntimeError naming the fix — never a process that spawns itself again.
//
// exitcode() is empty while the child runs, 0 after a normal return, 1 after an uncaught
// exception (reported on the child's stderr as "Process <name>:" and the error, as Python
// does), SystemExit's code, or -N when a signal N killed it. A child is reaped exactly once,
// by whichever call sees it end first; children still running at normal exit are joined
// (daemon children are terminated first), so none is left a zombie.
//
//   void worker(int n) { std::printf("작업 %d 시작\n", n); }
//   int main() {
//     pyconc::multiprocessing::freeze_support();
//     pyconc::multiprocessing::Process p(worker, 1);
//     p.start();
//     p.join();
//   }
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pyconc/multiprocessing/errors.hpp"
#include "pyconc/multiprocessing/target.hpp"
#include "pyconc/timeout.hpp"

namespace pyconc::multiprocessing {

enum class StartMethod { fork, spawn, forkserver };

namespace detail {
struct ProcessState;
}

// Python's keyword arguments name= and daemon=; unset means Python's default ("Process-N",
// the creating process's daemon flag).
struct ProcessOptions {
  std::optional<std::string> name;
  std::optional<bool> daemon;
};

class Context;
struct FromTargetTag {};  // internal: selects Process's constructor for a made target

class Process {
 public:
  template <class F, class... Args>
    requires(!std::is_same_v<std::decay_t<F>, Process> && !std::is_same_v<std::decay_t<F>, ProcessOptions> &&
             !std::is_same_v<std::decay_t<F>, struct FromTargetTag>)
  explicit Process(F&& target, Args&&... args)
      : Process(ProcessOptions{}, std::forward<F>(target), std::forward<Args>(args)...) {}
  template <class F, class... Args>
  Process(ProcessOptions options, F&& target, Args&&... args)
      : Process(FromTarget{}, std::move(options), std::nullopt,
                checked_target(std::forward<F>(target), std::forward<Args>(args)...)) {}

  // Another handle to the same process.
  Process(const Process&) = default;
  Process& operator=(const Process&) = default;
  ~Process();
  friend bool operator==(const Process& a, const Process& b) { return a.state_ == b.state_; }

  void start();
  // Waits until the process ends or the timeout passes (a negative timeout acts as 0).
  void join(Timeout timeout = forever);
  bool is_alive() const;
  std::optional<int> exitcode() const;
  // SIGTERM / SIGKILL; nothing when the process has already ended.
  void terminate();
  void kill();
  // Releases the process's resources; ValueError while it runs. Idempotent.
  void close();

  std::optional<pid_t> pid() const;
  std::optional<pid_t> ident() const { return pid(); }
  // A file descriptor that becomes readable when the process ends (ValueError before start).
  int sentinel() const;
  std::string name() const;
  void set_name(std::string name);
  bool daemon() const;
  void set_daemon(bool daemon);
  std::string authkey() const;
  // The start method start() used, or will use.
  StartMethod start_method() const;
  std::string repr() const;

 private:
  friend class Context;
  friend Process current_process();
  friend std::optional<Process> parent_process();
  friend std::vector<Process> active_children();
  explicit Process(std::shared_ptr<detail::ProcessState> state) : state_(std::move(state)) {}
  using FromTarget = FromTargetTag;
  Process(FromTarget, ProcessOptions options, std::optional<StartMethod> method, detail::ProcessTarget target);

  template <class F, class... Args>
  static detail::ProcessTarget checked_target(F&& f, Args&&... args) {
    static_assert(detail::spawnable<F, Args...>(),
                  "pyconc::multiprocessing::Process(target, args...): the target must be a plain function "
                  "(no lambda with captures) whose parameters can cross a process boundary "
                  "(pyconc::pickle::Picklable), because the default start method starts a fresh image of the "
                  "program. For a capturing lambda, use get_context(\"fork\").Process(...).");
    return detail::make_target(std::forward<F>(f), std::forward<Args>(args)...);
  }

  std::shared_ptr<detail::ProcessState> state_;
};

// The running process, its parent (empty in the top process), and the children started
// from this process that are still alive (those that ended are reaped on the way).
Process current_process();
std::optional<Process> parent_process();
std::vector<Process> active_children();
long cpu_count();

// Python's multiprocessing.freeze_support(): call it first thing in main(). In a process
// started by spawn or forkserver it runs the target and exits; elsewhere it returns at once.
void freeze_support();

}  // namespace pyconc::multiprocessing
