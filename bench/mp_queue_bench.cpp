// Items between two processes: a producer (this process) and a consumer (a child) move N
// ints through pyconc's multiprocessing Queue, SimpleQueue and Pipe, against the floor of
// this machine (one 8-byte pipe write + read per item) and Python's multiprocessing.
// Each contender in its own process (side_by_side.hpp).
//   build/release/bench/mp_queue_bench [--rounds 5] [--load 2] [--only NAME] [--size ITEMS]
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "pyconc/multiprocessing.hpp"
#include "python_peer.hpp"
#include "side_by_side.hpp"

namespace mp = pyconc::multiprocessing;

namespace {

template <class Body>
double items_per_second(long items, Body body) {
  const auto start = std::chrono::steady_clock::now();
  body();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return static_cast<double>(items) / seconds / 1e6;
}

template <class Q>
void drain(Q q, long items) {
  long sum = 0;
  for (long i = 0; i < items; ++i) sum += q.get();
  if (sum != items * (items - 1) / 2) std::_Exit(1);
}

template <class Q>
double through(Q q, long items) {
  auto consumer = mp::get_context("fork").Process(drain<Q>, q, items);
  return items_per_second(items, [&] {
    consumer.start();
    for (long i = 0; i < items; ++i) q.put(static_cast<int>(i));
    consumer.join();
    if (consumer.exitcode() != 0) std::exit(1);
  });
}

void drain_pipe(mp::Connection c, long items) {
  long sum = 0;
  for (long i = 0; i < items; ++i) sum += c.recv<int>();
  if (sum != items * (items - 1) / 2) std::_Exit(1);
}

double pipe_objects(long items) {
  auto [reader, writer] = mp::Pipe(false);
  auto consumer = mp::get_context("fork").Process(drain_pipe, reader, items);
  return items_per_second(items, [&] {
    consumer.start();
    reader.close();
    for (long i = 0; i < items; ++i) writer.send(static_cast<int>(i));
    consumer.join();
  });
}

double pipe_floor(long items) {
  int fds[2];
  if (::pipe(fds) != 0) std::exit(1);
  return items_per_second(items, [&] {
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::close(fds[1]);
      long value = 0, sum = 0;
      for (long i = 0; i < items; ++i) {
        if (::read(fds[0], &value, sizeof value) != sizeof value) ::_exit(1);
        sum += value;
      }
      ::_exit(sum == items * (items - 1) / 2 ? 0 : 1);
    }
    ::close(fds[0]);
    for (long i = 0; i < items; ++i)
      if (::write(fds[1], &i, sizeof i) != sizeof i) std::exit(1);
    int status = 0;
    ::waitpid(pid, &status, 0);
  });
}

double python(const std::string& kind, long items) {
  const std::string n = std::to_string(items);
  std::string body;
  if (kind == "Pipe") {
    body = "    r, w = mp.Pipe(False)\n"
           "    p = mp.Process(target=drain_pipe, args=(r, " + n + ")); p.start()\n"
           "    t = time.perf_counter()\n"
           "    for i in range(" + n + "): w.send(i)\n";
  } else {
    body = "    q = mp." + kind + "()\n"
           "    p = mp.Process(target=drain, args=(q, " + n + ")); p.start()\n"
           "    t = time.perf_counter()\n"
           "    for i in range(" + n + "): q.put(i)\n";
  }
  const std::string script =
      "import multiprocessing as mp, time\n"
      "def drain(q, n):\n"
      "    for _ in range(n): q.get()\n"
      "def drain_pipe(c, n):\n"
      "    for _ in range(n): c.recv()\n"
      "if __name__ == '__main__':\n"
      "    mp.set_start_method('fork')\n" + body +
      "    p.join()\n"
      "    print(" + n + " / (time.perf_counter() - t) / 1e6)\n";
  return bench::run_python(script);
}

}  // namespace

int main(int argc, char** argv) {
  mp::freeze_support();
  return bench::run_comparison(
      argc, argv,
      {"ints between two processes (producer -> consumer), %ld items",
       "M items/s",
       true,
       500'000,
       {
           {"pyconc multiprocessing::Queue<int>", [](long n) { return through(mp::Queue<int>(), n); }},
           {"pyconc multiprocessing::SimpleQueue<int>", [](long n) { return through(mp::SimpleQueue<int>(), n); }},
           {"pyconc Pipe send/recv<int>", pipe_objects},
           {"floor: 8-byte pipe write + read", pipe_floor},
           {"Python 3 multiprocessing.Queue", [](long n) { return python("Queue", n / 10); }},
           {"Python 3 multiprocessing.SimpleQueue", [](long n) { return python("SimpleQueue", n / 10); }},
           {"Python 3 multiprocessing.Pipe", [](long n) { return python("Pipe", n / 10); }},
       }});
}
