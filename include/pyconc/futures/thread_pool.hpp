// pyconc::futures::ThreadPoolExecutor — Python's concurrent.futures.ThreadPoolExecutor.
//
// max_workers defaults to min(32, process_cpu_count() + 4) — the CPUs this process may
// use (affinity and cgroup quota), so a one-CPU container gets a small pool. Workers are
// pyconc threads named "<prefix>_<i>" (default prefix "ThreadPoolExecutor-<k>"), started
// lazily, at most one per submit and only when no worker is idle. An initializer that
// throws breaks the pool: pending and later work fail with BrokenThreadPool. An idle pool
// sleeps (no spinning, no timers).
//
// Beyond Python, nested waits do not deadlock the pool: a worker about to block in a
// future's result()/exception(), in wait() or in as_completed() lets a spare thread take
// its place while queued work is waiting (the compensation of Java's ForkJoinPool), so at
// most max_workers tasks run unblocked at a time. A blocked worker keeps its timeout and
// never runs other work on its own stack. At most MAX_SPARE_WORKERS spares exist at once;
// past that a waiting task simply waits (as every Python task does). When the blocked
// workers wake, the surplus retires as each finishes its task.
//
// Shutting down from inside one of the pool's own tasks (shutdown(wait=true), or the
// destructor, Python's `with` exit) cannot wait for the pool's workers — the caller is
// one of them, and the others may be waiting for it — so it returns at once; the pool's
// state lives on until its last worker exits, and the work still queued completes.
//
//   pyconc::futures::ThreadPoolExecutor pool(3);
//   auto f = pool.submit(fetch_url, std::string("https://a.com"));
//   std::puts(f.result().c_str());
//   // ~ThreadPoolExecutor(): shutdown(wait = true)
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "pyconc/futures/executor.hpp"

namespace pyconc::futures {

struct ThreadPoolOptions {
  std::optional<std::int64_t> max_workers;     // default min(32, process_cpu_count() + 4)
  std::string thread_name_prefix;              // default "ThreadPoolExecutor-<k>"
  std::function<void()> initializer;           // runs in each worker before any task
};

namespace detail {
class PoolCore;
}

class ThreadPoolExecutor : public Executor {
 public:
  // How many spare workers may stand in for blocked ones at once (Java's MAX_SPARES).
  static constexpr std::int64_t MAX_SPARE_WORKERS = 256;

  ThreadPoolExecutor() : ThreadPoolExecutor(ThreadPoolOptions{}) {}
  explicit ThreadPoolExecutor(std::int64_t max_workers)
      : ThreadPoolExecutor(ThreadPoolOptions{.max_workers = max_workers, .thread_name_prefix = {}, .initializer = {}}) {}
  explicit ThreadPoolExecutor(ThreadPoolOptions options);
  ~ThreadPoolExecutor() override;

  void shutdown(bool wait = true, bool cancel_futures = false) override;

  std::int64_t max_workers() const;
  // How many worker threads are running now, spares included (Python's len(executor._threads)).
  std::size_t thread_count();

  // Python's default: min(32, process_cpu_count() + 4).
  static std::int64_t default_max_workers();

 private:
  void submit_task(std::shared_ptr<detail::Task> task) override;

  std::shared_ptr<detail::PoolCore> core_;  // shared with the workers, which may outlive us
};

}  // namespace pyconc::futures
