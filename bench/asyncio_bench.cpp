// asyncio against its peers, each contender in its own process (side_by_side.hpp):
//
//   asyncio_bench sleepers [--size N]   N tasks each sleeping 10 ms, gathered: wall seconds
//   asyncio_bench sleepers_memory       the same: peak RSS growth, bytes per task
//   asyncio_bench switch                sleep(0) ping-pong between two tasks: ns per switch
//   asyncio_bench threads_memory        N coroutines vs N OS threads each waiting 10 ms: MiB
//
// Peers: Asio's C++20 coroutines (co_spawn + steady_timer; post for the ping-pong), Python's
// asyncio, and OS threads for the last one.
#include <asio.hpp>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "pyconc/asyncio.hpp"
#include "python_peer.hpp"
#include "side_by_side.hpp"

namespace asyncio = pyconc::asyncio;
using namespace std::chrono_literals;

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Peak resident set size so far, in bytes (getrusage: KiB on Linux).
double peak_rss_bytes() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) * 1024.0;
}

// --- N sleepers, gathered ------------------------------------------------------------------

asyncio::Coroutine<void> pyconc_sleeper() { co_await asyncio::sleep(10ms); }

asyncio::Coroutine<void> pyconc_sleepers(long n) {
  std::vector<asyncio::Coroutine<void>> sleepers;
  sleepers.reserve(static_cast<std::size_t>(n));
  for (long i = 0; i < n; ++i) sleepers.push_back(pyconc_sleeper());
  co_await asyncio::gather(std::move(sleepers));
}

// Returns {seconds, bytes of peak RSS growth per task}.
std::pair<double, double> run_pyconc_sleepers(long n) {
  const double base = peak_rss_bytes();
  const auto start = std::chrono::steady_clock::now();
  asyncio::run(pyconc_sleepers(n));
  return {seconds_since(start), (peak_rss_bytes() - base) / static_cast<double>(n)};
}

asio::awaitable<void> asio_sleeper() {
  asio::steady_timer timer(co_await asio::this_coro::executor, 10ms);
  co_await timer.async_wait(asio::use_awaitable);
}

std::pair<double, double> run_asio_sleepers(long n) {
  const double base = peak_rss_bytes();
  const auto start = std::chrono::steady_clock::now();
  asio::io_context context(1);
  for (long i = 0; i < n; ++i) asio::co_spawn(context, asio_sleeper(), asio::detached);
  context.run();  // returns when every coroutine has finished: the gather
  return {seconds_since(start), (peak_rss_bytes() - base) / static_cast<double>(n)};
}

std::string python_sleepers(long n, bool memory) {
  return "import asyncio, time, resource\n"
         "async def sleeper():\n    await asyncio.sleep(0.01)\n"
         "async def main():\n    await asyncio.gather(*(sleeper() for _ in range(" + std::to_string(n) + ")))\n"
         "base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
         "start = time.perf_counter()\nasyncio.run(main())\nelapsed = time.perf_counter() - start\n"
         "grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) * 1024 / " + std::to_string(n) + "\n" +
         (memory ? "print(grown)\n" : "print(elapsed)\n");
}

// --- sleep(0) ping-pong --------------------------------------------------------------------

asyncio::Coroutine<void> pyconc_yielder(long n) {
  for (long i = 0; i < n; ++i) co_await asyncio::sleep(0s);
}

double pyconc_switch(long n) {
  const auto start = std::chrono::steady_clock::now();
  asyncio::run([n]() -> asyncio::Coroutine<void> {
    auto a = asyncio::create_task(pyconc_yielder(n));
    auto b = asyncio::create_task(pyconc_yielder(n));
    co_await a;
    co_await b;
  });
  return seconds_since(start) * 1e9 / (2.0 * static_cast<double>(n));
}

asio::awaitable<void> asio_yielder(long n) {
  auto executor = co_await asio::this_coro::executor;
  for (long i = 0; i < n; ++i) co_await asio::post(executor, asio::use_awaitable);
}

double asio_switch(long n) {
  const auto start = std::chrono::steady_clock::now();
  asio::io_context context(1);
  asio::co_spawn(context, asio_yielder(n), asio::detached);
  asio::co_spawn(context, asio_yielder(n), asio::detached);
  context.run();
  return seconds_since(start) * 1e9 / (2.0 * static_cast<double>(n));
}

std::string python_switch(long n) {
  return "import asyncio, time\n"
         "async def yielder(n):\n    for _ in range(n):\n        await asyncio.sleep(0)\n"
         "async def main():\n    await asyncio.gather(yielder(" + std::to_string(n) + "), yielder(" + std::to_string(n) + "))\n"
         "start = time.perf_counter()\nasyncio.run(main())\n"
         "print((time.perf_counter() - start) * 1e9 / (2 * " + std::to_string(n) + "))\n";
}

// --- coroutines vs OS threads: memory ------------------------------------------------------

double coroutines_memory_mib(long n) {
  const double base = peak_rss_bytes();
  asyncio::run(pyconc_sleepers(n));
  return (peak_rss_bytes() - base) / (1024.0 * 1024.0);
}

double threads_memory_mib(long n) {
  const double base = peak_rss_bytes();
  std::vector<std::thread> threads;
  threads.reserve(static_cast<std::size_t>(n));
  for (long i = 0; i < n; ++i) threads.emplace_back([] { std::this_thread::sleep_for(10ms); });
  for (auto& thread : threads) thread.join();
  return (peak_rss_bytes() - base) / (1024.0 * 1024.0);
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "sleepers" || mode == "sleepers_memory") {
    const bool memory = mode == "sleepers_memory";
    auto pick = [memory](std::pair<double, double> r) { return memory ? r.second : r.first; };
    return bench::run_comparison(
        argc - 1, argv + 1,
        {memory ? "%ld tasks each sleeping 10 ms, gathered: peak RSS growth per task"
                : "%ld tasks each sleeping 10 ms, gathered: wall time",
         memory ? "bytes/task" : "s",
         false,
         100000,
         {{"pyconc asyncio", [pick](long n) { return pick(run_pyconc_sleepers(n)); }},
          {"Asio C++20 coroutines", [pick](long n) { return pick(run_asio_sleepers(n)); }},
          {"Python asyncio", [memory](long n) { return bench::run_python(python_sleepers(n, memory)); }}},
         {mode}});
  }
  if (mode == "switch") {
    return bench::run_comparison(argc - 1, argv + 1,
                                 {"sleep(0) ping-pong between two tasks, %ld rounds each",
                                  "ns/switch",
                                  false,
                                  1000000,
                                  {{"pyconc asyncio sleep(0)", pyconc_switch},
                                   {"Asio post ping-pong", asio_switch},
                                   {"Python asyncio sleep(0)", [](long n) { return bench::run_python(python_switch(n / 10)); }}},
                                  {mode}});
  }
  if (mode == "threads_memory") {
    return bench::run_comparison(argc - 1, argv + 1,
                                 {"%ld concurrent waits of 10 ms: peak RSS growth",
                                  "MiB",
                                  false,
                                  10000,
                                  {{"pyconc coroutines", coroutines_memory_mib}, {"OS threads", threads_memory_mib}},
                                  {mode}});
  }
  std::fprintf(stderr, "usage: %s sleepers|sleepers_memory|switch|threads_memory [--rounds N] [--load K] [--size N]\n",
               argv[0]);
  return 2;
}
