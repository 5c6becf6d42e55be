// Process start → exit → joined, per process: pyconc's three start methods against the
// floors of this machine (fork + _exit + waitpid; posix_spawn of /bin/true) and Python's
// multiprocessing (python3 from Debian). Each contender in its own process (side_by_side.hpp).
//   build/release/bench/process_bench [--rounds 5] [--load 2] [--only NAME] [--size PROCESSES]
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "pyconc/multiprocessing.hpp"
#include "python_peer.hpp"
#include "side_by_side.hpp"

extern char** environ;

namespace mp = pyconc::multiprocessing;

namespace {

void nothing() {}

template <class Body>
double ms_per_process(long processes, Body body) {
  const auto start = std::chrono::steady_clock::now();
  for (long i = 0; i < processes; ++i) body();
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count() /
         static_cast<double>(processes);
}

double pyconc_method(const char* method, long processes) {
  const auto ctx = mp::get_context(method);
  return ms_per_process(processes, [&] {
    auto p = ctx.Process(nothing);
    p.start();
    p.join();
    if (p.exitcode() != 0) std::exit(1);
  });
}

double fork_floor(long processes) {
  return ms_per_process(processes, [] {
    const pid_t pid = ::fork();
    if (pid == 0) ::_exit(0);
    int status = 0;
    ::waitpid(pid, &status, 0);
  });
}

double posix_spawn_floor(long processes) {
  return ms_per_process(processes, [] {
    pid_t pid = 0;
    char arg0[] = "/bin/true";
    char* argv[] = {arg0, nullptr};
    if (::posix_spawn(&pid, "/bin/true", nullptr, nullptr, argv, environ) != 0) std::exit(1);
    int status = 0;
    ::waitpid(pid, &status, 0);
  });
}

// Python's multiprocessing, timed inside the interpreter (its own start-up is not counted).
double python_method(const char* method, long processes) {
  const std::string script =
      "import multiprocessing as mp, time\n"
      "def nothing(): pass\n"
      "if __name__ == '__main__':\n"
      "    ctx = mp.get_context('" + std::string(method) + "')\n"
      "    t = time.perf_counter()\n"
      "    for _ in range(" + std::to_string(processes) + "):\n"
      "        p = ctx.Process(target=nothing); p.start(); p.join()\n"
      "    print((time.perf_counter() - t) * 1000 / " + std::to_string(processes) + ")\n";
  return bench::run_python(script);
}

}  // namespace

int main(int argc, char** argv) {
  mp::freeze_support();  // spawn and forkserver children are fresh images of this program
  return bench::run_comparison(
      argc, argv,
      {"Process start -> exit -> joined, %ld processes one after another",
       "ms/process",
       false,
       200,
       {
           {"pyconc fork", [](long n) { return pyconc_method("fork", n); }},
           {"pyconc forkserver", [](long n) { return pyconc_method("forkserver", n); }},
           {"pyconc spawn", [](long n) { return pyconc_method("spawn", n); }},
           {"floor: fork + _exit + waitpid", fork_floor},
           {"floor: posix_spawn /bin/true", posix_spawn_floor},
           {"Python 3 multiprocessing fork", [](long n) { return python_method("fork", n / 4 + 1); }},
           {"Python 3 multiprocessing forkserver", [](long n) { return python_method("forkserver", n / 4 + 1); }},
           {"Python 3 multiprocessing spawn", [](long n) { return python_method("spawn", n / 4 + 1); }},
       }});
}
