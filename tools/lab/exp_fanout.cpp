// fanout: the seeds' I/O fan-out (seeds 001, 002: "download many URLs"): N requests that
// each wait on the network, done one after another, on a thread pool, on a process pool,
// and as asyncio coroutines. The network wait is a sleep (the machines have no network);
// what is measured is how well each way overlaps the waits, and what it costs to set up.
#include <pyconc/asyncio.hpp>
#include <pyconc/futures.hpp>
#include <pyconc/multiprocessing.hpp>

#include <chrono>
#include <thread>
#include <vector>

#include "experiments.hpp"

namespace pyconc::lab {
namespace {

using Clock = std::chrono::steady_clock;

int fetch(int latency_ms) {  // a plain function, so it can cross to a worker process
  std::this_thread::sleep_for(std::chrono::milliseconds(latency_ms));
  return latency_ms;
}

asyncio::Coroutine<int> fetch_async(int latency_ms) {
  co_await asyncio::sleep(std::chrono::milliseconds(latency_ms));
  co_return latency_ms;
}

asyncio::Coroutine<void> fetch_all_async(int requests, int latency_ms) {
  std::vector<asyncio::Coroutine<int>> calls;
  for (int i = 0; i < requests; ++i) calls.push_back(fetch_async(latency_ms));
  auto results = co_await asyncio::gather(std::move(calls));
  (void)results;
}

double sequential(int requests, int latency_ms) {
  const auto started = Clock::now();
  for (int i = 0; i < requests; ++i) fetch(latency_ms);
  return std::chrono::duration<double>(Clock::now() - started).count();
}

template <class Pool>
double on_pool(int requests, int latency_ms) {
  const auto started = Clock::now();
  {
    Pool pool(requests);
    std::vector<futures::Future<int>> calls;
    for (int i = 0; i < requests; ++i) calls.push_back(pool.submit(fetch, latency_ms));
    for (auto& call : calls) call.result();
  }  // shutdown(wait=true): the workers' start and exit are part of the cost
  return std::chrono::duration<double>(Clock::now() - started).count();
}

double on_asyncio(int requests, int latency_ms) {
  const auto started = Clock::now();
  asyncio::run(fetch_all_async(requests, latency_ms));
  return std::chrono::duration<double>(Clock::now() - started).count();
}

}  // namespace

void run_fanout(const Options& options, Findings& findings) {
  const int requests = options.quick ? 10 : 50;
  const int latency_ms = options.quick ? 50 : 200;
  Table table(std::to_string(requests) + " requests of " + std::to_string(latency_ms) +
                  " ms each",
              {"way", "seconds", "speed-up"});
  Chart chart("ways", "I/O fan-out: speed-up over one request at a time", "way",
              "speed-up (x)");
  chart.bars = true;
  Series series{"speed-up", {}};
  const double one_by_one = sequential(requests, latency_ms);
  struct Way {
    const char* name;
    const char* key;
    double seconds;
  };
  const Way ways[] = {
      {"sequential", "sequential", one_by_one},
      {"ThreadPoolExecutor", "threads", on_pool<futures::ThreadPoolExecutor>(requests, latency_ms)},
      {"ProcessPoolExecutor", "processes",
       on_pool<futures::ProcessPoolExecutor>(requests, latency_ms)},
      {"asyncio.gather", "asyncio", on_asyncio(requests, latency_ms)},
  };
  for (const auto& way : ways) {
    const double speedup = one_by_one / way.seconds;
    table.add({way.name, fixed(way.seconds, 3), fixed(speedup, 1) + "x"});
    findings.fact(std::string("speedup.") + way.key, speedup);
    chart.xtics.push_back(way.name);
    series.points.emplace_back(chart.xtics.size(), speedup);
  }
  findings.table(std::move(table));
  chart.series = {series};
  findings.chart(std::move(chart));
  findings.note("Waits overlap on threads and on coroutines alike; processes overlap them "
                "too but pay for starting a process per worker. For I/O, threads or asyncio.");
}

}  // namespace pyconc::lab
