#include "popen.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "pyconc/errors.hpp"

namespace pyconc::multiprocessing::detail {

namespace {

int pidfd_open(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

int pidfd_send_signal(int pidfd, int signal) {
  return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, signal, nullptr, 0));
}

}  // namespace

bool wait_readable(int fd, const Deadline& deadline) {
  for (;;) {
    int timeout_ms = -1;
    if (!deadline.is_never()) {
      const auto left = deadline.remaining();
      // Round up: a wait that ends a little early would only poll again.
      timeout_ms = static_cast<int>(std::min<std::int64_t>(
          (left.count() + 999'999) / 1'000'000, std::numeric_limits<int>::max()));
    }
    pollfd p{fd, POLLIN, 0};
    const int n = ::poll(&p, 1, timeout_ms);
    if (n > 0) return true;
    if (n < 0 && errno != EINTR) throw OSError(std::string("poll: ") + std::strerror(errno));
    if (!deadline.is_never() && deadline.expired()) return false;
  }
}

PidfdPopen::PidfdPopen(pid_t pid) : pid_(pid), pidfd_(pidfd_open(pid)) {
  // The child exists (it is ours and not yet reaped), so this fails only when the process
  // is out of file descriptors.
  if (pidfd_ < 0) throw OSError(std::string("pidfd_open: ") + std::strerror(errno));
}

PidfdPopen::~PidfdPopen() { ::close(pidfd_); }

std::optional<int> PidfdPopen::reap() {
  std::scoped_lock hold(lock_);
  if (exitcode_) return exitcode_;
  siginfo_t info{};
  const int rc = ::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd_), &info, WEXITED | WNOHANG);
  if (rc < 0) {
    if (errno == EINTR) return std::nullopt;
    // ECHILD: someone else reaped it (a SIGCHLD handler set to SIG_IGN, or waitpid(-1)); it
    // has ended and its status is lost. 255 is what a shell reports for "unknown".
    exitcode_ = 255;
    return exitcode_;
  }
  if (info.si_pid == 0) return std::nullopt;  // still running
  exitcode_ = info.si_code == CLD_EXITED ? info.si_status : -info.si_status;
  return exitcode_;
}

std::optional<int> PidfdPopen::wait(const Deadline& deadline) {
  if (auto code = reap()) return code;
  while (wait_readable(pidfd_, deadline)) {
    if (auto code = reap()) return code;
  }
  return reap();
}

void PidfdPopen::send_signal(int signal) {
  std::scoped_lock hold(lock_);
  if (exitcode_) return;
  // ESRCH: it has ended but is not reaped yet; nothing to do.
  if (pidfd_send_signal(pidfd_, signal) < 0 && errno != ESRCH)
    throw OSError(std::string("pidfd_send_signal: ") + std::strerror(errno));
}

}  // namespace pyconc::multiprocessing::detail
