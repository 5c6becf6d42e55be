// Process pools against the floor of this machine and Python, each contender in its own
// process (side_by_side.hpp).
//
//   build/release/bench/process_pool_bench roundtrip [--rounds 5] [--load 2] [--size N]
//     N round trips of a tiny task, one after another (submit then result): pyconc's
//     ProcessPoolExecutor and Pool.apply, a pipe ping-pong between two processes (the
//     floor: one message each way), Python's ProcessPoolExecutor and Pool.apply.
//   build/release/bench/process_pool_bench cpu [--rounds 5] [--load 2] [--size N]
//     4 tasks, each the sum of squares below N (3,000,000 by default), from the start of
//     the pool to the last result: sequential, ThreadPoolExecutor, ProcessPoolExecutor (and
//     each pool's second batch, once its workers exist), and Python's sequential, threads
//     and processes. The loop cannot be folded into a formula
//     by the compiler (an empty asm keeps the sum in a register each step): like Python, it
//     really adds N squares.
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "pyconc/futures.hpp"
#include "pyconc/multiprocessing.hpp"
#include "python_peer.hpp"
#include "side_by_side.hpp"

namespace mp = pyconc::multiprocessing;
namespace futures = pyconc::futures;

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}
double ms_since(std::chrono::steady_clock::time_point start) { return seconds_since(start) * 1e3; }

// --- round trips --------------------------------------------------------------------

int tiny(int x) { return x + 1; }

double executor_round_trips(long n) {
  futures::ProcessPoolExecutor pool(2);
  pool.submit(tiny, 0).result();  // the worker is up: what is measured is the round trip
  const auto start = std::chrono::steady_clock::now();
  for (long i = 0; i < n; ++i)
    if (pool.submit(tiny, static_cast<int>(i)).result() != i + 1) std::exit(1);
  return seconds_since(start) / static_cast<double>(n) * 1e6;
}

double pool_apply_round_trips(long n) {
  mp::Pool pool(2);
  pool.apply(tiny, 0);
  const auto start = std::chrono::steady_clock::now();
  for (long i = 0; i < n; ++i)
    if (pool.apply(tiny, static_cast<int>(i)) != i + 1) std::exit(1);
  return seconds_since(start) / static_cast<double>(n) * 1e6;
}

// One 8-byte message each way between two processes over a socket pair, as a worker's
// Connection is.
double ping_pong_floor(long n) {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) std::exit(1);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    long value = 0;
    for (long i = 0; i < n; ++i) {
      if (::read(fds[1], &value, sizeof value) != sizeof value) ::_exit(1);
      ++value;
      if (::write(fds[1], &value, sizeof value) != sizeof value) ::_exit(1);
    }
    ::_exit(0);
  }
  ::close(fds[1]);
  const auto start = std::chrono::steady_clock::now();
  for (long i = 0; i < n; ++i) {
    long value = i;
    if (::write(fds[0], &value, sizeof value) != sizeof value) std::exit(1);
    if (::read(fds[0], &value, sizeof value) != sizeof value || value != i + 1) std::exit(1);
  }
  const double us = seconds_since(start) / static_cast<double>(n) * 1e6;
  int status = 0;
  ::waitpid(pid, &status, 0);
  return us;
}

double python_round_trips(const std::string& kind, long n) {
  const std::string count = std::to_string(n);
  const std::string call = kind == "executor" ? "pool.submit(tiny, i).result()" : "pool.apply(tiny, (i,))";
  const std::string make = kind == "executor" ? "ProcessPoolExecutor(2)" : "mp.Pool(2)";
  return bench::run_python(
      "import multiprocessing as mp, time\n"
      "from concurrent.futures import ProcessPoolExecutor\n"
      "def tiny(x):\n"
      "    return x + 1\n"
      "if __name__ == '__main__':\n"
      "    with " + make + " as pool:\n"
      "        i = 0; " + call + "\n"
      "        t = time.perf_counter()\n"
      "        for i in range(" + count + "): " + call + "\n"
      "        print((time.perf_counter() - t) / " + count + " * 1e6)\n");
}

// --- CPU-bound ------------------------------------------------------------------------

long long sum_of_squares(long long n) {
  long long sum = 0;
  for (long long i = 0; i < n; ++i) {
    sum += i * i;
    asm volatile("" : "+r"(sum));  // one real addition per step, as Python makes
  }
  return sum;
}

constexpr int kTasks = 4;

double sequential(long n) {
  const auto start = std::chrono::steady_clock::now();
  long long check = 0;
  for (int t = 0; t < kTasks; ++t) check += sum_of_squares(n);
  if (check == 42) std::puts("");
  return ms_since(start);
}

template <class Executor>
void run_batch(Executor& pool, long n) {
  std::vector<futures::Future<long long>> fs;
  for (int t = 0; t < kTasks; ++t) fs.push_back(pool.submit(sum_of_squares, static_cast<long long>(n)));
  for (auto& f : fs)
    if (f.result() != fs.front().result()) std::exit(1);
}

// From the pool's start to the last result, as the seeds' programs run.
template <class Executor>
double on_executor(long n) {
  const auto start = std::chrono::steady_clock::now();
  Executor pool(kTasks);
  run_batch(pool, n);
  return ms_since(start);
}

// The second batch of a pool whose workers the first batch started: the compute alone.
template <class Executor>
double on_warm_executor(long n) {
  Executor pool(kTasks);
  run_batch(pool, n);
  const auto start = std::chrono::steady_clock::now();
  run_batch(pool, n);
  return ms_since(start);
}

double python_cpu(const std::string& how, long n) {
  const std::string count = std::to_string(n);
  std::string run;
  if (how == "sequential") run = "    r = [heavy(" + count + ") for _ in range(4)]\n";
  else
    run = "    with " + std::string(how == "threads" ? "ThreadPoolExecutor(4)" : "ProcessPoolExecutor(4)") +
          " as ex:\n        r = list(ex.map(heavy, [" + count + "] * 4))\n";
  return bench::run_python(
      "import time\n"
      "from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor\n"
      "def heavy(n):\n"
      "    return sum(i * i for i in range(n))\n"
      "if __name__ == '__main__':\n"
      "    t = time.perf_counter()\n" + run +
      "    print((time.perf_counter() - t) * 1e3)\n");
}

}  // namespace

int main(int argc, char** argv) {
  mp::freeze_support();
  const std::string which = argc > 1 ? argv[1] : "";
  if (which == "roundtrip") {
    return bench::run_comparison(
        argc - 1, argv + 1,
        {"a tiny task's round trip (submit, then result), %ld in a row, 2 workers",
         "us/round trip",
         false,
         20'000,
         {
             {"pyconc ProcessPoolExecutor submit+result", executor_round_trips},
             {"pyconc Pool.apply", pool_apply_round_trips},
             {"floor: socket ping-pong, 2 processes", ping_pong_floor},
             {"Python 3 ProcessPoolExecutor", [](long n) { return python_round_trips("executor", n / 10); }},
             {"Python 3 Pool.apply", [](long n) { return python_round_trips("pool", n / 10); }},
         },
         {"roundtrip"}});
  }
  if (which == "cpu") {
    return bench::run_comparison(
        argc - 1, argv + 1,
        {"4 x sum of squares below %ld, pool start to last result",
         "ms",
         false,
         3'000'000,
         {
             {"pyconc ProcessPoolExecutor(4)", on_executor<futures::ProcessPoolExecutor>},
             {"pyconc ThreadPoolExecutor(4)", on_executor<futures::ThreadPoolExecutor>},
             {"pyconc ProcessPoolExecutor(4), started", on_warm_executor<futures::ProcessPoolExecutor>},
             {"pyconc ThreadPoolExecutor(4), started", on_warm_executor<futures::ThreadPoolExecutor>},
             {"sequential (C++)", sequential},
             {"Python 3 sequential", [](long n) { return python_cpu("sequential", n); }},
             {"Python 3 threads", [](long n) { return python_cpu("threads", n); }},
             {"Python 3 processes", [](long n) { return python_cpu("processes", n); }},
         },
         {"cpu"}});
  }
  std::fprintf(stderr, "usage: %s roundtrip|cpu [--rounds N] [--load K] [--size N]\n", argv[0]);
  return 2;
}
