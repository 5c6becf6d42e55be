// Internal: the state behind Process handles, the registry of this process's children, and
// what the running process knows about itself and its parent.
#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "popen.hpp"
#include "pyconc/multiprocessing/process.hpp"

namespace pyconc::multiprocessing::detail {

struct ProcessState {
  enum class Phase { initial, started, closed };

  std::optional<StartMethod> bound_method;  // from a context; else the default at start()
  ProcessTarget target;
  // A child we start; the running process itself (current_process()); or its parent
  // (parent_process(), Python's _ParentProcess: alive and joinable through its pidfd).
  enum class Kind { child, self, parent };
  Kind kind = Kind::child;
  pid_t creator = 0;            // a child: only the process that made it may start, join or signal it
  std::vector<int> identity;    // Python's _identity: the "1:2" in "Process-1:2"
  pid_t known_pid = 0;          // self and parent
  int parent_pidfd = -1;        // parent: readable once it has ended; -1 if it already had

  mutable std::mutex lock;
  std::string name;
  bool daemon = false;
  std::string authkey;
  Phase phase = Phase::initial;
  std::optional<StartMethod> method_used;
  // Shared: a thread waiting on it outside the lock keeps it (and its descriptors) alive
  // while another thread closes the Process.
  std::shared_ptr<Popen> popen;
  std::optional<int> exitcode;

  ~ProcessState() {
    if (parent_pidfd >= 0) ::close(parent_pidfd);
  }
};

// What the running process is, for current_process() and for the children it names.
struct SelfInfo {
  std::shared_ptr<ProcessState> state;
  int next_child = 1;  // Python's _counter
  std::shared_ptr<ProcessState> parent;  // empty in the top process
};

// The running process's record; self_lock() guards it.
std::mutex& self_lock();
SelfInfo& self_info();

// Makes this process a child: its own identity, no children of its own yet.
// os_parent: parent_pid is our parent in the OS's eyes (fork, spawn), so a different
// getppid() means it has already ended.
void become_child(const std::string& name, bool daemon, const std::string& authkey,
                  std::vector<int> identity, pid_t parent_pid, const std::string& parent_name,
                  bool os_parent = true);

// Runs a child's target as Python's BaseProcess._bootstrap does: the exit code it ends
// with (0, SystemExit's code, or 1 after reporting "Process <name>:" and the error).
int run_child_target(ProcessTarget& target, const std::string& name);

// The children started by this process and not yet known to have ended.
void add_child(std::shared_ptr<ProcessState> child);
std::vector<std::shared_ptr<ProcessState>> live_children();

// The child's exit code, waiting for it until `deadline`, recorded in `state` once known;
// empty while it runs (or if it was never started).
std::optional<int> poll_exit(ProcessState& state, const Deadline& deadline);

// Starting a child by each method: sets state.popen (with the lock of `state` held).
void start_by_fork(ProcessState& state);
void start_by_spawn(ProcessState& state);
void start_by_forkserver(ProcessState& state);

// ---- fresh images (spawn, and the forkserver's own start) ----
inline constexpr const char* kSpawnVariable = "PYCONC_SPAWN_FD";
inline constexpr const char* kForkserverVariable = "PYCONC_FORKSERVER_FD";
// The libraries a new forkserver loads before it forks anyone (set_forkserver_preload),
// one name per line.
inline constexpr const char* kForkserverPreloadVariable = "PYCONC_FORKSERVER_PRELOAD";

// Checks run before spawn/forkserver starts anything (freeze_support, bootstrapping).
void check_can_start_fresh_image();
// The pickled description of what a fresh child runs and who it is; the descriptors its
// arguments carry are appended to passed_fds.
std::string spawn_payload(ProcessState& state, std::vector<int>& passed_fds);
// posix_spawn of this program with `variable`=value in its environment and passed_fds open.
pid_t spawn_fresh_image(const char* variable, int value, const std::vector<int>& passed_fds,
                        const std::vector<std::string>& more_environment = {});
// In a new forkserver: loads the libraries named by kForkserverPreloadVariable.
void load_forkserver_preload();
// In a fresh child: runs the payload, with `fds` the descriptors it was passed; exits.
// os_parent: the process that asked for it is its parent in the OS's eyes (not under forkserver).
[[noreturn]] void run_fresh_child(const std::string& payload, const std::vector<int>& fds, bool os_parent);
// A close-on-exec memfd holding `bytes`, and all that a memfd holds.
int memfd_for(const std::string& bytes);
std::string read_memfd(int fd);
// In the forkserver process (freeze_support): serves start requests on `fd`; exits.
[[noreturn]] void serve_forkserver(int fd);

// The default start method, fixed on first use.
StartMethod default_start_method();

}  // namespace pyconc::multiprocessing::detail
