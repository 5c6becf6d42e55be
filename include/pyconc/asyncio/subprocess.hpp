// pyconc::asyncio subprocesses — Python's asyncio.create_subprocess_exec / _shell and the
// Process they return, on libuv's process handling (the child is reaped by the loop).
//
//   namespace sp = asyncio::subprocess;
//   auto proc = co_await asyncio::create_subprocess_exec("ls", "-l", asyncio::SubprocessOptions{.std_out = sp::PIPE});
//   for (std::string line; !(line = co_await proc.std_out()->readline()).empty();) use(line);
//   int code = co_await proc.wait();
//
// Names: <cstdio> makes stdin/stdout/stderr macros, so Python's `stdin=`, `proc.stdout` are
// `std_in`, `std_out`, `std_err` here. Bytes are std::string, so Python's text/encoding
// arguments have no twin.
//
// Python's rules (SUBP-01..07): returncode is empty while the child runs, then its exit
// status, or -N when signal N killed it. wait() does not read the pipes — a child that fills
// an unread pipe never exits; use communicate() or read the streams — and a wait() begun before
// the exit returns once every pipe has reached EOF. send_signal/terminate/kill do nothing once
// the child has exited and raise ProcessLookupError once it is reaped and its pipes closed.
// Cancelling a wait() leaves the child alone. A loop closed while a child runs kills and reaps
// it: no zombie is left behind.
#pragma once

#include <csignal>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "pyconc/asyncio/streams.hpp"

namespace pyconc::asyncio {

namespace subprocess {
// Where a child's stdin, stdout or stderr goes: Python's subprocess.PIPE, STDOUT (stderr into
// stdout), DEVNULL, None (inherit this process's), or a descriptor of the program's.
struct Stdio {
  int fd;
  friend bool operator==(Stdio, Stdio) = default;
};
inline constexpr Stdio PIPE{-1};
inline constexpr Stdio STDOUT{-2};
inline constexpr Stdio DEVNULL{-3};
inline constexpr Stdio INHERIT{-4};
inline Stdio fd(int descriptor) { return Stdio{descriptor}; }
}  // namespace subprocess

// Python's keyword arguments of create_subprocess_exec.
struct SubprocessOptions {
  subprocess::Stdio std_in = subprocess::INHERIT;
  subprocess::Stdio std_out = subprocess::INHERIT;
  subprocess::Stdio std_err = subprocess::INHERIT;
  std::int64_t limit = StreamReader::DEFAULT_LIMIT;  // of the stdout/stderr readers
  std::optional<std::string> cwd;
  std::optional<std::map<std::string, std::string>> env;  // none: this process's environment
};

namespace detail {
class ProcessCore;
}

// Python's asyncio.subprocess.Process. A handle: copies share the one child.
class Process {
 public:
  explicit Process(std::shared_ptr<detail::ProcessCore> core);

  int pid() const;
  std::optional<int> returncode() const;
  // The streams of the descriptors that were PIPE (Python's None otherwise).
  const std::optional<StreamWriter>& std_in() const;
  const std::optional<StreamReader>& std_out() const;
  const std::optional<StreamReader>& std_err() const;

  // Until the child has exited (and, begun before that, its pipes have reached EOF); the
  // returncode. Awaitable any number of times.
  Coroutine<int> wait() const;
  // Python's communicate(input=None): feeds `input` to stdin (when PIPE) and closes it,
  // reads stdout and stderr to EOF at the same time, waits for the exit; (stdout, stderr),
  // empty for a stream that is not PIPE. A child that stops reading its stdin is no error.
  Coroutine<std::pair<std::optional<std::string>, std::optional<std::string>>> communicate(
      std::optional<std::string> input = std::nullopt) const;
  void send_signal(int signum) const;
  void terminate() const { send_signal(SIGTERM); }
  void kill() const { send_signal(SIGKILL); }

 private:
  std::shared_ptr<detail::ProcessCore> core_;
};

// Python's create_subprocess_exec(program, *args, ...): `program` is looked up on PATH. A
// program that cannot be started raises (FileNotFoundError, PermissionError) from the await.
Coroutine<Process> create_subprocess_exec(std::string program, std::vector<std::string> args = {},
                                          SubprocessOptions options = {});

namespace detail {
inline void add_exec_argument(std::vector<std::string>& args, SubprocessOptions&, std::string_view arg) {
  args.emplace_back(arg);
}
inline void add_exec_argument(std::vector<std::string>&, SubprocessOptions& options, const SubprocessOptions& given) {
  options = given;
}
}  // namespace detail

// The same with the arguments one by one, as Python spells it, options (if any) last:
//   co_await create_subprocess_exec("sleep", "30", SubprocessOptions{.std_out = sp::PIPE});
// GCC 12 does not compile a braced list ({"30"}) inside a co_await expression; this form
// needs none.
template <class... Args>
  requires(sizeof...(Args) > 0 && ((std::is_convertible_v<const Args&, std::string_view> ||
                                    std::is_same_v<std::decay_t<Args>, SubprocessOptions>) && ...))
Coroutine<Process> create_subprocess_exec(std::string program, const Args&... args) {
  std::vector<std::string> arguments;
  SubprocessOptions options;
  (detail::add_exec_argument(arguments, options, args), ...);
  return create_subprocess_exec(std::move(program), std::move(arguments), std::move(options));
}
// Python's create_subprocess_shell(cmd, ...): `/bin/sh -c cmd`.
Coroutine<Process> create_subprocess_shell(std::string command, SubprocessOptions options = {});

}  // namespace pyconc::asyncio
