// The forkserver start method. The first start spawns a server: a fresh image of this
// program, single-threaded, that freeze_support() turns into serve_forkserver(). Each start
// then sends the server a request over a SOCK_SEQPACKET socket: a memfd with the payload,
// the child's end of a status socket, and the descriptors the arguments carry (SCM_RIGHTS).
// The server forks; the child runs the payload; the server answers on the status socket
// with the child's pid and a pidfd for it, and later with its exit code. The status socket
// is the Process's sentinel; signals go through the pidfd (no PID-reuse race).
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <dlfcn.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>

#include "detail/built_at_load.hpp"
#include "fd_passing.hpp"
#include "process_state.hpp"
#include "pyconc/os.hpp"

namespace pyconc::multiprocessing::detail {

namespace {

constexpr int kMaxFds = 250;  // SCM_RIGHTS' limit per message (SCM_MAX_FD 253)

[[noreturn]] void throw_os_error(const std::string& what) {
  throw OSError(what + ": " + std::strerror(errno));
}

int pidfd_open(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

// Sends `data` with `fds` attached.
bool send_with_fds(int socket, const void* data, std::size_t size, const std::vector<int>& fds) {
  iovec io{const_cast<void*>(data), size};
  msghdr message{};
  message.msg_iov = &io;
  message.msg_iovlen = 1;
  std::vector<char> control(CMSG_SPACE(sizeof(int) * fds.size()));
  if (!fds.empty()) {
    message.msg_control = control.data();
    message.msg_controllen = control.size();
    cmsghdr* header = CMSG_FIRSTHDR(&message);
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    header->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(header), fds.data(), sizeof(int) * fds.size());
  }
  for (;;) {
    if (::sendmsg(socket, &message, MSG_NOSIGNAL) >= 0) return true;
    if (errno != EINTR) return false;
  }
}

// Receives one message into `data` (up to size bytes) and the descriptors attached to it
// (close-on-exec). Returns the byte count, 0 at end of stream, -1 on error.
ssize_t receive_with_fds(int socket, void* data, std::size_t size, std::vector<int>& fds) {
  iovec io{data, size};
  msghdr message{};
  message.msg_iov = &io;
  message.msg_iovlen = 1;
  std::vector<char> control(CMSG_SPACE(sizeof(int) * kMaxFds));
  message.msg_control = control.data();
  message.msg_controllen = control.size();
  ssize_t n;
  do n = ::recvmsg(socket, &message, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  for (cmsghdr* h = CMSG_FIRSTHDR(&message); h; h = CMSG_NXTHDR(&message, h)) {
    if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS) continue;
    const std::size_t count = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    const auto* received = reinterpret_cast<const int*>(CMSG_DATA(h));
    fds.insert(fds.end(), received, received + count);
  }
  return n;
}

void close_all(const std::vector<int>& fds) {
  for (int fd : fds) ::close(fd);
}

// ---- the client: this process's connection to its server ----

struct Client {
  std::mutex lock;
  int socket = -1;
  std::unique_ptr<PidfdPopen> server;  // reaped when it has to be replaced
  std::vector<std::string> preload;    // for the next server started
};

Client& client() {
  static Client* c = [] {
    auto* created = new Client;
    pyconc::os::detail::fork_protect(created->lock);
    // A forked child starts a server of its own: the parent's socket stays the parent's.
    pyconc::os::register_at_fork({}, {}, [created] {
      if (created->socket >= 0) ::close(created->socket);
      created->socket = -1;
      created->server.release();  // not our child; its pidfd stays open, harmlessly
    });
    return created;
  }();
  return *c;
}
PYCONC_BUILD_AT_LOAD(client());

// With the client's lock held: a connection to a live server.
int connected_socket(Client& c) {
  if (c.socket >= 0 && c.server && !c.server->wait(Deadline::now())) return c.socket;
  if (c.socket >= 0) ::close(c.socket);
  c.socket = -1;
  c.server.reset();
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0) throw_os_error("socketpair");
  pid_t pid;
  try {
    std::string names;
    for (const auto& name : c.preload) names += name + "\n";
    pid = spawn_fresh_image(kForkserverVariable, pair[1], {pair[1]},
                            {std::string(kForkserverPreloadVariable) + "=" + names});
  } catch (...) {
    ::close(pair[0]);
    ::close(pair[1]);
    throw;
  }
  ::close(pair[1]);
  c.socket = pair[0];
  c.server = std::make_unique<PidfdPopen>(pid);
  return c.socket;
}

class ForkserverPopen final : public Popen {
 public:
  ForkserverPopen(pid_t pid, int pidfd, int status) : pid_(pid), pidfd_(pidfd), status_(status) {}
  ~ForkserverPopen() override {
    ::close(pidfd_);
    ::close(status_);
  }
  pid_t pid() const override { return pid_; }
  int sentinel() const override { return status_; }
  std::optional<int> wait(const Deadline& deadline) override {
    {
      std::scoped_lock hold(lock_);
      if (exitcode_) return exitcode_;
    }
    if (!wait_readable(status_, deadline)) return std::nullopt;
    std::scoped_lock hold(lock_);
    if (exitcode_) return exitcode_;
    std::int32_t code = 0;
    const ssize_t n = ::recv(status_, &code, sizeof code, MSG_DONTWAIT);
    if (n == static_cast<ssize_t>(sizeof code)) {
      exitcode_ = code;
    } else if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
      exitcode_ = 255;  // the server died before it could tell: the status is lost
    }
    return exitcode_;
  }
  void send_signal(int signal) override {
    std::scoped_lock hold(lock_);
    if (exitcode_) return;
    if (::syscall(SYS_pidfd_send_signal, pidfd_, signal, nullptr, 0) < 0 && errno != ESRCH)
      throw_os_error("pidfd_send_signal");
  }

 private:
  const pid_t pid_;
  const int pidfd_;
  const int status_;
  std::mutex lock_;
  std::optional<int> exitcode_;
};

// ---- the server ----

struct Child {
  int pidfd;
  int status;
};

// Forks the child for one request: fds = payload memfd, status socket, passed descriptors.
void start_child(const std::vector<int>& fds, int requests, std::map<int, Child>& children) {
  const int payload_fd = fds[0];
  const int status = fds[1];
  const std::vector<int> passed(fds.begin() + 2, fds.end());
  const pid_t pid = ::fork();
  if (pid < 0) {
    close_all(fds);  // the client sees its status socket close: the start failed
    return;
  }
  if (pid == 0) {
    ::close(requests);
    for (auto& [fd, child] : children) {
      ::close(child.pidfd);
      ::close(child.status);
    }
    ::signal(SIGINT, SIG_DFL);
    ::signal(SIGCHLD, SIG_DFL);
    const std::string payload = read_memfd(payload_fd);
    ::close(payload_fd);
    ::close(status);
    run_fresh_child(payload, passed, /*os_parent=*/false);
  }
  const int pidfd = pidfd_open(pid);
  const std::int32_t pid32 = pid;
  send_with_fds(status, &pid32, sizeof pid32, {pidfd});
  ::close(payload_fd);
  close_all(passed);
  children[pidfd] = {pidfd, status};
}

void report_exit(std::map<int, Child>& children, int pidfd) {
  siginfo_t info{};
  if (::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd), &info, WEXITED | WNOHANG) < 0 ||
      info.si_pid == 0)
    return;
  const std::int32_t code = info.si_code == CLD_EXITED ? info.si_status : -info.si_status;
  const Child child = children[pidfd];
  ::send(child.status, &code, sizeof code, MSG_NOSIGNAL);
  ::close(child.status);
  ::close(child.pidfd);
  children.erase(pidfd);
}

}  // namespace

void load_forkserver_preload() {
  const char* names = std::getenv(kForkserverPreloadVariable);
  if (!names) return;
  std::string list = names;
  ::unsetenv(kForkserverPreloadVariable);
  std::size_t start = 0;
  for (std::size_t end; (end = list.find('\n', start)) != std::string::npos; start = end + 1) {
    const std::string name = list.substr(start, end - start);
    // A hint, as in Python: a library that does not load is skipped silently.
    if (!name.empty()) ::dlopen(name.c_str(), RTLD_NOW | RTLD_GLOBAL);
  }
}

void serve_forkserver(int requests) {
  // Ctrl-C goes to the whole process group; the server outlives it, as Python's does, so
  // the parent can still learn how its children ended.
  ::signal(SIGINT, SIG_IGN);
  bool clients_gone = false;
  std::map<int, Child> children;
  while (!clients_gone || !children.empty()) {
    std::vector<pollfd> watched;
    if (!clients_gone) watched.push_back({requests, POLLIN, 0});
    for (auto& [fd, child] : children) watched.push_back({fd, POLLIN, 0});
    if (::poll(watched.data(), watched.size(), -1) < 0) continue;
    for (const auto& w : watched) {
      if (!w.revents) continue;
      if (w.fd != requests) {
        report_exit(children, w.fd);
        continue;
      }
      char tag = 0;
      std::vector<int> fds;
      const ssize_t n = receive_with_fds(requests, &tag, 1, fds);
      if (n <= 0) {
        clients_gone = true;  // the parent has ended: finish reporting, then stop
        close_all(fds);
      } else if (fds.size() >= 2) {
        start_child(fds, requests, children);
      } else {
        close_all(fds);
      }
    }
  }
  std::_Exit(0);
}

void start_by_forkserver(ProcessState& state) {
  check_can_start_fresh_image();
  std::vector<int> passed;
  const std::string payload = spawn_payload(state, passed);
  if (passed.size() + 2 > static_cast<std::size_t>(kMaxFds))
    throw ValueError("too many file descriptors in a Process's arguments");
  int status[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, status) < 0) throw_os_error("socketpair");
  std::vector<int> fds{-1, status[1]};
  fds.insert(fds.end(), passed.begin(), passed.end());
  try {
    fds[0] = memfd_for(payload);
    Client& c = client();
    std::scoped_lock hold(c.lock);
    const char tag = 'S';
    if (!send_with_fds(connected_socket(c), &tag, 1, fds)) throw_os_error("forkserver request");
  } catch (...) {
    if (fds[0] >= 0) ::close(fds[0]);
    ::close(status[0]);
    ::close(status[1]);
    throw;
  }
  ::close(fds[0]);
  ::close(status[1]);
  std::int32_t pid = 0;
  std::vector<int> pidfd;
  const ssize_t n = receive_with_fds(status[0], &pid, sizeof pid, pidfd);
  if (n != static_cast<ssize_t>(sizeof pid) || pidfd.size() != 1) {
    close_all(pidfd);
    ::close(status[0]);
    throw OSError("the forkserver could not start the process (fork failed or the server died)");
  }
  state.popen = std::make_shared<ForkserverPopen>(pid, pidfd[0], status[0]);
}

}  // namespace pyconc::multiprocessing::detail

namespace pyconc::multiprocessing {

void set_forkserver_preload(const std::vector<std::string>& library_names) {
  detail::Client& c = detail::client();
  std::scoped_lock hold(c.lock);
  c.preload = library_names;
}

}  // namespace pyconc::multiprocessing
