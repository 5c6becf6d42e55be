// Subprocesses, after CPython 3.13's asyncio/subprocess.py and base_subprocess.py: the child
// is started and reaped by libuv (reactor.cpp); its pipes are FdTransports.
#include "pyconc/asyncio/subprocess.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "fd_transport.hpp"
#include "loop_core.hpp"

namespace pyconc::asyncio::detail {

class ProcessCore : public std::enable_shared_from_this<ProcessCore> {
 public:
  explicit ProcessCore(EventLoop& loop) : loop_(&loop), core_(loop.core_ptr()) {}

  int pid = 0;
  std::optional<int> returncode;
  std::optional<StreamWriter> std_in;
  std::optional<StreamReader> std_out, std_err;

  void add_pipe(std::shared_ptr<FdTransport> pipe);
  void on_exit(int code) {
    returncode = code;
    try_finish();
  }
  Coroutine<int> wait(std::shared_ptr<ProcessCore> keep_alive);
  void send_signal(int signum);

 private:
  // Python's _try_finish: done once the child has exited and every pipe is at EOF.
  void try_finish();

  EventLoop* loop_;
  std::shared_ptr<LoopCore> core_;
  std::vector<std::shared_ptr<FdTransport>> pipes_;
  int pipes_open_ = 0;
  bool finished_ = false;
  std::vector<Future<int>> exit_waiters_;
};

void ProcessCore::add_pipe(std::shared_ptr<FdTransport> pipe) {
  ++pipes_open_;
  std::weak_ptr<ProcessCore> self = weak_from_this();
  pipe->on_connection_lost([self] {
    if (auto process = self.lock()) {
      --process->pipes_open_;
      process->try_finish();
    }
  });
  pipes_.push_back(std::move(pipe));
}

void ProcessCore::try_finish() {
  if (!returncode || pipes_open_ > 0 || finished_) return;
  finished_ = true;
  auto waiters = std::move(exit_waiters_);
  exit_waiters_.clear();
  for (auto& waiter : waiters) {
    if (!waiter.done()) waiter.set_result(*returncode);  // a cancelled wait() is skipped
  }
}

Coroutine<int> ProcessCore::wait(std::shared_ptr<ProcessCore>) {
  if (returncode) co_return *returncode;
  Future<int> waiter(*loop_);
  exit_waiters_.push_back(waiter);
  co_return co_await waiter;
}

void ProcessCore::send_signal(int signum) {
  if (finished_) throw ProcessLookupError("the process has been reaped and its pipes closed");
  if (returncode) return;  // exited, not yet finished: Python's Popen.send_signal does nothing
  core_->kill_child(pid, signum);
}

namespace {

// The descriptors made for one child: what it gets (child) and what this process keeps.
struct Descriptors {
  int child[3] = {-1, -1, -1};
  int parent[3] = {-1, -1, -1};
  std::vector<int> to_close_after_spawn;  // the child's ends, once it has them
  ~Descriptors() {
    for (int fd : to_close_after_spawn) ::close(fd);
    for (int fd : parent)
      if (fd >= 0) ::close(fd);
  }
  int take_parent(int i) { return std::exchange(parent[i], -1); }
};

void make_pipe(Descriptors& fds, int i) {
  int ends[2];
  if (i == 0) {
    // stdin is a socket pair: a write to a child that has gone is EPIPE (MSG_NOSIGNAL),
    // never a SIGPIPE that would kill this process.
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends) != 0) raise_os_error(errno, "socketpair");
    // Its reading side tells this process when the child has closed it (EOF).
    fds.parent[0] = ends[0];
    fds.child[0] = ends[1];
  } else {
    if (::pipe2(ends, O_CLOEXEC) != 0) raise_os_error(errno, "pipe");
    fds.parent[i] = ends[0];
    fds.child[i] = ends[1];
  }
  fds.to_close_after_spawn.push_back(fds.child[i]);
}

Descriptors descriptors_for(const SubprocessOptions& options) {
  Descriptors fds;
  const subprocess::Stdio stdio[3] = {options.std_in, options.std_out, options.std_err};
  for (int i = 0; i < 3; ++i) {
    const subprocess::Stdio where = stdio[i];
    if (where == subprocess::PIPE) {
      make_pipe(fds, i);
    } else if (where == subprocess::DEVNULL) {
      const int fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
      if (fd < 0) raise_os_error(errno, "/dev/null");
      fds.child[i] = fd;
      fds.to_close_after_spawn.push_back(fd);
    } else if (where == subprocess::STDOUT) {
      if (i != 2) throw ValueError("STDOUT can only be used for stderr");
      fds.child[2] = fds.child[1] >= 0 ? fds.child[1] : 1;
    } else if (where == subprocess::INHERIT) {
      fds.child[i] = -1;
    } else if (where.fd >= 0) {
      fds.child[i] = where.fd;
    } else {
      throw ValueError("invalid stdio value " + std::to_string(where.fd));
    }
  }
  return fds;
}

Reactor::SpawnRequest spawn_request(std::vector<std::string> argv, const SubprocessOptions& options,
                                    const Descriptors& fds) {
  Reactor::SpawnRequest request;
  request.argv = std::move(argv);
  for (int i = 0; i < 3; ++i) request.stdio[i] = fds.child[i];
  request.cwd = options.cwd;
  if (options.env) {
    std::vector<std::string> environment;
    for (const auto& [name, value] : *options.env) environment.push_back(name + "=" + value);
    request.environment = std::move(environment);
  }
  return request;
}

Coroutine<Process> start_process(std::vector<std::string> argv, SubprocessOptions options) {
  EventLoop& loop = get_running_loop();
  auto process = std::make_shared<ProcessCore>(loop);
  if (options.std_out == subprocess::PIPE) process->std_out.emplace(options.limit);
  if (options.std_err == subprocess::PIPE) process->std_err.emplace(options.limit);
  Descriptors fds = descriptors_for(options);
  // The exit callback holds the process: as Python's child watcher holds its transport, so
  // a child whose Process was dropped is still reaped.
  process->pid = loop.core().spawn(spawn_request(std::move(argv), options, fds),
                                   [process](int returncode) { process->on_exit(returncode); });
  if (fds.parent[0] >= 0) {
    auto pipe = FdTransport::make(loop, fds.take_parent(0), FdTransport::Kind::write_pipe, std::nullopt);
    process->std_in.emplace(pipe);
    process->add_pipe(std::move(pipe));
  }
  for (int i = 1; i < 3; ++i) {
    if (fds.parent[i] < 0) continue;
    auto& reader = i == 1 ? process->std_out : process->std_err;
    process->add_pipe(FdTransport::make(loop, fds.take_parent(i), FdTransport::Kind::read_pipe, reader));
  }
  co_return Process(process);
}

Coroutine<void> feed_stdin(std::optional<StreamWriter> std_in, std::optional<std::string> input) {
  if (!std_in) co_return;  // Python 3.13 ignores input without stdin=PIPE
  if (input && !input->empty()) std_in->write(*input);
  try {
    co_await std_in->drain();
  } catch (const BrokenPipeError&) {
    // the child stopped reading: not an error of communicate()
  } catch (const ConnectionResetError&) {
  }
  std_in->close();
}

Coroutine<std::optional<std::string>> read_to_eof(std::optional<StreamReader> reader) {
  if (!reader) co_return std::nullopt;
  co_return co_await reader->read();
}

Coroutine<std::pair<std::optional<std::string>, std::optional<std::string>>> communicate_with(
    std::shared_ptr<ProcessCore> process, std::optional<std::string> input) {
  // The three at once, as Python's gather: a child blocked writing stderr while this
  // process feeds its stdin would otherwise deadlock.
  auto feeding = create_task(feed_stdin(process->std_in, std::move(input)));
  auto out = create_task(read_to_eof(process->std_out));
  auto err = create_task(read_to_eof(process->std_err));
  co_await feeding;
  std::optional<std::string> out_text = co_await out;
  std::optional<std::string> err_text = co_await err;
  co_await process->wait(process);
  co_return std::make_pair(std::move(out_text), std::move(err_text));
}

}  // namespace

}  // namespace pyconc::asyncio::detail

namespace pyconc::asyncio {

Process::Process(std::shared_ptr<detail::ProcessCore> core) : core_(std::move(core)) {}
int Process::pid() const { return core_->pid; }
std::optional<int> Process::returncode() const { return core_->returncode; }
const std::optional<StreamWriter>& Process::std_in() const { return core_->std_in; }
const std::optional<StreamReader>& Process::std_out() const { return core_->std_out; }
const std::optional<StreamReader>& Process::std_err() const { return core_->std_err; }
Coroutine<int> Process::wait() const { return core_->wait(core_); }
void Process::send_signal(int signum) const { core_->send_signal(signum); }

Coroutine<std::pair<std::optional<std::string>, std::optional<std::string>>> Process::communicate(
    std::optional<std::string> input) const {
  return detail::communicate_with(core_, std::move(input));
}

Coroutine<Process> create_subprocess_exec(std::string program, std::vector<std::string> args,
                                          SubprocessOptions options) {
  args.insert(args.begin(), std::move(program));
  return detail::start_process(std::move(args), std::move(options));
}

Coroutine<Process> create_subprocess_shell(std::string command, SubprocessOptions options) {
  std::vector<std::string> argv;
  argv.emplace_back("/bin/sh");
  argv.emplace_back("-c");
  argv.push_back(std::move(command));
  return detail::start_process(std::move(argv), std::move(options));
}

}  // namespace pyconc::asyncio
