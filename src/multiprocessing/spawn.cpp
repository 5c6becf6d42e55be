// The spawn start method: a fresh image of this program (posix_spawn of /proc/self/exe with
// the same arguments) that freeze_support() turns into the child. What the child runs, and
// who it is, arrives pickled in a memfd whose number is in PYCONC_SPAWN_FD.
#include <dlfcn.h>
#include <fcntl.h>
#include <link.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>

#include "fd_passing.hpp"
#include "process_state.hpp"

extern char** environ;

namespace pyconc::multiprocessing::detail {

namespace {


std::atomic<bool> g_freeze_support_called{false};

// Everything a spawned child needs to become the Process the parent made.
struct SpawnPayload {
  std::string name;
  bool daemon = false;
  std::string authkey;
  std::vector<int> identity;
  pid_t parent_pid = 0;
  std::string parent_name;
  CodeAddress entry;
  CodeAddress function;
  std::string args;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(name, daemon, authkey, identity, parent_pid, parent_name, entry, function, args);
  }
};

[[noreturn]] void throw_os_error(const char* what) { throw OSError(std::string(what) + ": " + std::strerror(errno)); }

std::vector<std::string> own_command_line() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  const std::string all{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  std::vector<std::string> args;
  std::size_t begin = 0;
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (all[i] == '\0') {
      args.push_back(all.substr(begin, i - begin));
      begin = i + 1;
    }
  }
  if (args.empty()) args.push_back("/proc/self/exe");
  return args;
}

}  // namespace

int memfd_for(const std::string& bytes) {
  const int fd = ::memfd_create("pyconc-spawn", MFD_CLOEXEC);
  if (fd < 0) throw_os_error("memfd_create");
  std::size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      throw_os_error("write");
    }
    written += static_cast<std::size_t>(n);
  }
  return fd;
}

std::string read_memfd(int fd) {
  std::string bytes;
  char buffer[1 << 16];
  off_t offset = 0;
  for (;;) {
    const ssize_t n = ::pread(fd, buffer, sizeof buffer, offset);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw_os_error("read");
    if (n == 0) return bytes;
    bytes.append(buffer, static_cast<std::size_t>(n));
    offset += n;
  }
}

namespace {

}  // namespace

// The child side: become the Process, run its target, exit with its code.
[[noreturn]] void run_fresh_child(const std::string& bytes, const std::vector<int>& fds, bool os_parent) {
  SpawnPayload payload;
  try {
    payload = pickle::loads<SpawnPayload>(bytes);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "pyconc: a new process could not read what to run: %s\n", e.what());
    std::exit(1);
  }
  become_child(payload.name, payload.daemon, payload.authkey, payload.identity, payload.parent_pid,
               payload.parent_name, os_parent);
  ProcessTarget target;
  target.name = payload.name;
  target.run = [&payload, &fds] {
    const auto entry = reinterpret_cast<SpawnEntry>(const_cast<void*>(resolve_code(payload.entry)));
    const FdReceiving receiving(fds);
    entry(resolve_code(payload.function), payload.args);
  };
  std::exit(run_child_target(target, payload.name));
}

namespace {

[[noreturn]] void run_spawned_child(int payload_fd) {
  std::pair<std::vector<int>, std::string> received;
  try {
    received = pickle::loads<std::pair<std::vector<int>, std::string>>(read_memfd(payload_fd));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "pyconc: a spawned child could not read what to run: %s\n", e.what());
    std::exit(1);
  }
  ::close(payload_fd);
  run_fresh_child(received.second, received.first, /*os_parent=*/true);
}

}  // namespace

void check_can_start_fresh_image() {
  if (std::getenv(kSpawnVariable) || std::getenv(kForkserverVariable))
    throw RuntimeError(
        "An attempt has been made to start a new process before the current process has finished its "
        "bootstrapping phase. This probably means that you are not calling "
        "pyconc::multiprocessing::freeze_support() first thing in main(), and the spawn or forkserver "
        "start method re-ran the code before it in a child.");
  if (!g_freeze_support_called.load())
    throw RuntimeError(
        "the spawn and forkserver start methods run a fresh image of this program, which must call "
        "pyconc::multiprocessing::freeze_support() first thing in main() (where a child takes over); "
        "add that call, or use get_context(\"fork\")");
}

std::string pickle_target_arguments(ProcessState& state, std::vector<int>& passed_fds) {
  if (!state.target.pickle_args)
    throw pickle::PicklingError("Can't pickle " + state.target.name +
                                ": the spawn and forkserver start methods need a plain function whose arguments "
                                "can be pickled (a lambda or function object can run only under fork)");
  FdPassing passing(passed_fds);
  return state.target.pickle_args();
}

std::string spawn_payload(ProcessState& state, std::vector<int>& passed_fds) {
  SpawnPayload payload;
  payload.args = pickle_target_arguments(state, passed_fds);
  payload.name = state.name;
  payload.daemon = state.daemon;
  payload.authkey = state.authkey;
  payload.identity = state.identity;
  payload.parent_pid = ::getpid();
  payload.parent_name = current_process().name();
  payload.entry = locate_code(reinterpret_cast<const void*>(state.target.entry));
  payload.function = locate_code(state.target.function);
  return pickle::dumps(payload);
}

pid_t spawn_fresh_image(const char* variable, int value, const std::vector<int>& passed_fds,
                        const std::vector<std::string>& more_environment) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  // dup2 onto itself clears close-on-exec (glibc >= 2.29): these, and only these, cross.
  for (int fd : passed_fds) posix_spawn_file_actions_adddup2(&actions, fd, fd);
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attributes, &none);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK);

  const auto arguments = own_command_line();
  std::vector<char*> argv;
  for (const auto& a : arguments) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const std::string assignment = std::string(variable) + "=" + std::to_string(value);
  std::vector<char*> envp;
  for (char** e = environ; *e; ++e)
    if (std::strncmp(*e, "PYCONC_SPAWN_FD=", 16) != 0 && std::strncmp(*e, "PYCONC_FORKSERVER_", 18) != 0)
      envp.push_back(*e);
  envp.push_back(const_cast<char*>(assignment.c_str()));
  for (const auto& entry : more_environment) envp.push_back(const_cast<char*>(entry.c_str()));
  envp.push_back(nullptr);

  pid_t pid = 0;
  const int rc = ::posix_spawn(&pid, "/proc/self/exe", &actions, &attributes, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  if (rc != 0) {
    errno = rc;
    throw_os_error("posix_spawn");
  }
  return pid;
}

void start_by_spawn(ProcessState& state) {
  check_can_start_fresh_image();
  std::vector<int> passed_fds;
  const std::string payload = spawn_payload(state, passed_fds);
  const int payload_fd = memfd_for(pickle::dumps(std::make_pair(passed_fds, payload)));
  passed_fds.push_back(payload_fd);
  pid_t pid;
  try {
    pid = spawn_fresh_image(kSpawnVariable, payload_fd, passed_fds);
  } catch (...) {
    ::close(payload_fd);
    throw;
  }
  ::close(payload_fd);
  state.popen = std::make_shared<PidfdPopen>(pid);
}

// ---- where code lives ----

namespace {
struct Search {
  std::uintptr_t address;
  std::string object;
  std::uintptr_t bias = 0;
  bool found = false;
  bool first = true;
};

int find_object(dl_phdr_info* info, std::size_t, void* data) {
  auto* search = static_cast<Search*>(data);
  const bool executable = search->first;  // the program itself is always listed first
  search->first = false;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const auto& header = info->dlpi_phdr[i];
    if (header.p_type != PT_LOAD) continue;
    const std::uintptr_t begin = info->dlpi_addr + header.p_vaddr;
    if (search->address >= begin && search->address < begin + header.p_memsz) {
      search->object = executable ? "" : info->dlpi_name;
      search->bias = info->dlpi_addr;
      search->found = true;
      return 1;
    }
  }
  return 0;
}

int find_bias(dl_phdr_info* info, std::size_t, void* data) {
  auto* search = static_cast<Search*>(data);
  const bool executable = search->first;
  search->first = false;
  if ((executable && search->object.empty()) || (!executable && search->object == info->dlpi_name)) {
    search->bias = info->dlpi_addr;
    search->found = true;
    return 1;
  }
  return 0;
}
}  // namespace

CodeAddress locate_code(const void* function) {
  Search search{reinterpret_cast<std::uintptr_t>(function), {}};
  dl_iterate_phdr(&find_object, &search);
  if (!search.found) throw pickle::PicklingError("Can't pickle a function that is not in a loaded object");
  return {search.object, search.address - search.bias};
}

const void* resolve_code(const CodeAddress& where) {
  Search search{0, where.object};
  dl_iterate_phdr(&find_bias, &search);
  if (!search.found)
    throw RuntimeError("the target's code is in " + where.object + ", which this process has not loaded");
  return reinterpret_cast<const void*>(search.bias + where.offset);
}

}  // namespace pyconc::multiprocessing::detail

namespace pyconc::multiprocessing {

void freeze_support() {
  detail::g_freeze_support_called.store(true);
  if (const char* server = std::getenv(detail::kForkserverVariable)) {
    const int fd = std::atoi(server);
    ::unsetenv(detail::kForkserverVariable);
    detail::load_forkserver_preload();
    detail::serve_forkserver(fd);
  }
  if (const char* child = std::getenv(detail::kSpawnVariable)) {
    const int fd = std::atoi(child);
    ::unsetenv(detail::kSpawnVariable);  // grandchildren are not spawned children of ours
    detail::run_spawned_child(fd);
  }
}

}  // namespace pyconc::multiprocessing
