// Internal: how a parent waits for, reaps and signals one child process (Python's
// multiprocessing.popen_* classes). fork and spawn children are the parent's own children,
// watched through a pidfd; a forkserver child is the server's, and its status comes over a
// socket (forkserver.cpp).
#pragma once

#include <sys/types.h>

#include <memory>
#include <mutex>
#include <optional>

#include "pyconc/timeout.hpp"

namespace pyconc::multiprocessing::detail {

class Popen {
 public:
  virtual ~Popen() = default;
  virtual pid_t pid() const = 0;
  // Readable once the child has ended.
  virtual int sentinel() const = 0;
  // The exit code once the child has ended (Python's convention: -N for signal N), empty
  // if it still runs at the deadline. Safe to call from several threads.
  virtual std::optional<int> wait(const Deadline& deadline) = 0;
  // Sends `signal` unless the child has already been reaped.
  virtual void send_signal(int signal) = 0;
};

// A child of this process, watched through a pidfd: no PID-reuse race, pollable, and
// reaped exactly once (waitid on the pidfd, under a lock).
class PidfdPopen final : public Popen {
 public:
  explicit PidfdPopen(pid_t pid);
  ~PidfdPopen() override;
  pid_t pid() const override { return pid_; }
  int sentinel() const override { return pidfd_; }
  std::optional<int> wait(const Deadline& deadline) override;
  void send_signal(int signal) override;

 private:
  std::optional<int> reap();  // non-blocking

  const pid_t pid_;
  int pidfd_;
  std::mutex lock_;
  std::optional<int> exitcode_;
};

// Waits until `fd` is readable or the deadline passes; true when readable.
bool wait_readable(int fd, const Deadline& deadline);

}  // namespace pyconc::multiprocessing::detail
