// pyconc::futures::ThreadPoolExecutor — Python's concurrent.futures.ThreadPoolExecutor.
//
// max_workers defaults to min(32, process_cpu_count() + 4) — the CPUs this process may
// use (affinity and cgroup quota), so a one-CPU container gets a small pool. Workers are
// pyconc threads named "<prefix>_<i>" (default prefix "ThreadPoolExecutor-<k>"), started
// lazily, at most one per submit and only when no worker is idle. An initializer that
// throws breaks the pool: pending and later work fail with BrokenThreadPool. An idle pool
// sleeps (no spinning, no timers). Beyond Python: a worker that waits on a future runs the
// pool's queued tasks meanwhile, so nested waits inside the pool never deadlock it.
//
//   pyconc::futures::ThreadPoolExecutor pool(3);
//   auto f = pool.submit(fetch_url, std::string("https://a.com"));
//   std::puts(f.result().c_str());
//   // ~ThreadPoolExecutor(): shutdown(wait = true)
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pyconc/futures/executor.hpp"
#include "pyconc/queue/queues.hpp"
#include "pyconc/threading/event.hpp"
#include "pyconc/threading/semaphore.hpp"
#include "pyconc/threading/thread.hpp"

namespace pyconc::futures {

struct ThreadPoolOptions {
  std::optional<std::int64_t> max_workers;     // default min(32, process_cpu_count() + 4)
  std::string thread_name_prefix;              // default "ThreadPoolExecutor-<k>"
  std::function<void()> initializer;           // runs in each worker before any task
};

class ThreadPoolExecutor : public Executor, private detail::WaitHelper {
 public:
  ThreadPoolExecutor() : ThreadPoolExecutor(ThreadPoolOptions{}) {}
  explicit ThreadPoolExecutor(std::int64_t max_workers)
      : ThreadPoolExecutor(ThreadPoolOptions{.max_workers = max_workers, .thread_name_prefix = {}, .initializer = {}}) {}
  explicit ThreadPoolExecutor(ThreadPoolOptions options);
  ~ThreadPoolExecutor() override;

  void shutdown(bool wait = true, bool cancel_futures = false) override;

  std::int64_t max_workers() const { return max_workers_; }
  // How many worker threads have been started (Python's len(executor._threads)).
  std::size_t thread_count();

  // Python's default: min(32, process_cpu_count() + 4).
  static std::int64_t default_max_workers();
  // Called once at process exit (before non-daemon threads are joined): queued work
  // finishes, then the workers exit. Not for general use.
  void finish_at_exit();

 private:
  void submit_task(std::shared_ptr<detail::Task> task) override;
  bool help_until_done(detail::FutureStateBase& future, const Deadline& deadline) override;
  void adjust_thread_count();
  void worker();
  void initializer_failed();
  void wake_a_helper();

  const std::int64_t max_workers_;
  const std::string thread_name_prefix_;
  const std::function<void()> initializer_;

  queue::Queue<std::shared_ptr<detail::Task>> work_queue_;
  threading::Semaphore idle_semaphore_{0};
  std::atomic<bool> at_capacity_{false};  // all max_workers started
  threading::Lock shutdown_lock_;  // guards the fields below
  std::vector<std::unique_ptr<threading::Thread>> threads_;
  bool shutdown_ = false;
  std::string broken_;  // non-empty once broken: the reason

  // Workers blocked in a future's result() and waiting for either that future or new work.
  threading::Lock helpers_lock_;
  std::vector<threading::Event*> helpers_;
  std::atomic<std::size_t> helper_count_{0};
};

}  // namespace pyconc::futures
