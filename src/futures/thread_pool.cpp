#include "pyconc/futures/thread_pool.hpp"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <vector>

#include "pyconc/detail/type_name.hpp"
#include "pyconc/os.hpp"
#include "pyconc/queue/queues.hpp"
#include "pyconc/report.hpp"
#include "pyconc/threading/lock.hpp"
#include "pyconc/threading/thread.hpp"
#include "detail/built_at_load.hpp"

namespace pyconc::futures {

namespace detail {

// The pool itself. The executor object is only a handle: every worker holds a reference,
// so a task that destroys or shuts down its own executor never leaves a worker running in
// freed memory.
class PoolCore : public BlockingObserver, public std::enable_shared_from_this<PoolCore> {
 public:
  PoolCore(std::int64_t max_workers, std::string prefix, std::function<void()> initializer)
      : max_workers(max_workers), prefix_(std::move(prefix)), initializer_(std::move(initializer)) {}

  void submit(std::shared_ptr<Task> task, bool interpreter_shutdown);
  void shutdown(bool wait, bool cancel_futures);
  void finish_at_exit();
  void forget_workers_after_fork() { forked_away_.store(true); }
  std::size_t thread_count() const { return static_cast<std::size_t>(alive_.load()); }

  void begin_blocking() override;
  void end_blocking() override { blocked_.fetch_sub(1, std::memory_order_seq_cst); }

  const std::int64_t max_workers;

 private:
  bool is_own_worker() { return current_blocking_observer() == this; }
  bool fewer_runnable_than_max() const { return alive_.load() - blocked_.load() < max_workers; }
  bool needs_worker_for_submit();
  bool take_idle_token();
  void start_worker_locked();
  void join_finished_locked();
  void worker();
  std::shared_ptr<Task> next_task();
  bool retire_if_surplus();
  void initializer_failed();

  const std::string prefix_;
  const std::function<void()> initializer_;
  queue::Queue<std::shared_ptr<Task>> work_queue_;
  // Workers started and not retired, and of those the ones blocked waiting for futures:
  // alive - blocked can run tasks. waiting_ counts workers parked for work (exact);
  // idle_tokens_ is Python's _idle_semaphore: a worker adds one as it finishes a task
  // (until all max_workers exist), a submit takes one instead of starting a worker.
  std::atomic<std::int64_t> alive_{0};
  std::atomic<std::int64_t> blocked_{0};
  std::atomic<std::int64_t> waiting_{0};
  std::atomic<std::int64_t> idle_tokens_{0};
  std::atomic<bool> forked_away_{false};  // in a forked child: the workers are gone

  threading::Lock lock_;  // guards the fields below
  std::vector<threading::Thread> threads_;
  std::uint64_t started_ = 0;  // numbers the workers' names
  bool shutdown_ = false;
  std::string broken_;  // non-empty once broken: the reason
};

}  // namespace detail

namespace {

using detail::PoolCore;

std::atomic<std::uint64_t> g_pool_counter{0};

// Python's _python_exit: once interpreter shutdown begins, no pool takes new work, and every
// pool lets its workers finish what is queued; threading's shutdown then joins them.
struct LivePools {
  threading::Lock lock;
  std::vector<PoolCore*> pools;
  std::atomic<bool> interpreter_shutdown{false};
};

LivePools& live_pools() {
  static auto* pools = [] {
    auto* created = new LivePools;  // never destroyed: workers may outlive main()
    pyconc::os::detail::fork_protect(created->lock);
    pyconc::os::register_at_fork({}, {}, [created] {
      for (PoolCore* pool : created->pools) pool->forget_workers_after_fork();
    });
    return created;
  }();
  return *pools;
}
PYCONC_BUILD_AT_LOAD(live_pools());

void register_exit_hook_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    try {
      threading::register_atexit([] {
        LivePools& live = live_pools();
        std::scoped_lock hold(live.lock);
        live.interpreter_shutdown = true;
        for (PoolCore* pool : live.pools) pool->finish_at_exit();
      });
    } catch (const RuntimeError&) {
      // Created during shutdown itself: its workers are joined by threading's shutdown.
    }
  });
}

void report_initializer_failure() {
  pyconc::report("Exception in initializer:\n" +
                 pyconc::detail::describe_exception(std::current_exception()) + "\n");
}

constexpr const char* kForkedAway = "the pool's workers did not survive fork()";

}  // namespace

namespace detail {

void PoolCore::submit(std::shared_ptr<Task> task, bool interpreter_shutdown) {
  if (forked_away_.load()) throw BrokenThreadPool(kForkedAway);
  std::scoped_lock hold(lock_);
  if (!broken_.empty()) throw BrokenThreadPool(broken_);
  if (shutdown_) throw RuntimeError("cannot schedule new futures after shutdown");
  if (interpreter_shutdown)
    throw RuntimeError("cannot schedule new futures after interpreter shutdown");
  work_queue_.put(std::move(task));
  if (needs_worker_for_submit()) start_worker_locked();
}

// Python's _adjust_thread_count: an idle worker will take the task; otherwise one more
// worker, while fewer than max_workers can run. While some are blocked, only a worker
// really parked for work counts as idle (a stale token must not withhold a stand-in).
bool PoolCore::needs_worker_for_submit() {
  if (!fewer_runnable_than_max()) return false;
  if (blocked_.load() > 0) return waiting_.load() == 0;
  return !take_idle_token();
}

bool PoolCore::take_idle_token() {
  std::int64_t tokens = idle_tokens_.load();
  while (tokens > 0)
    if (idle_tokens_.compare_exchange_weak(tokens, tokens - 1)) return true;
  return false;
}

// Java's compensation: a worker about to block while work is queued and no worker is idle
// lets a spare start in its place (bounded). Dekker with submit(): we count ourselves
// blocked, then look at the queue; it queues, then looks at the count.
void PoolCore::begin_blocking() {
  blocked_.fetch_add(1, std::memory_order_seq_cst);
  auto stand_in_needed = [this] {
    return fewer_runnable_than_max() && waiting_.load() == 0 && work_queue_.qsize() > 0;
  };
  if (forked_away_.load() || !stand_in_needed()) return;
  std::scoped_lock hold(lock_);
  if (stand_in_needed() && alive_.load() < max_workers + ThreadPoolExecutor::MAX_SPARE_WORKERS) {
    try {
      start_worker_locked();
    } catch (const RuntimeError&) {
      // The OS refused a thread: wait without a stand-in, as Python always does.
    }
  }
}

void PoolCore::start_worker_locked() {
  join_finished_locked();
  threading::Thread t(threading::ThreadOptions{.name = prefix_ + "_" + std::to_string(started_),
                                               .daemon = false},
                      [self = shared_from_this()] { self->worker(); });
  alive_.fetch_add(1);
  try {
    t.start();
  } catch (...) {
    alive_.fetch_sub(1);
    throw;
  }
  ++started_;
  threads_.push_back(t);
}

// Retired spares leave finished threads behind; join them so the list stays short.
void PoolCore::join_finished_locked() {
  std::erase_if(threads_, [](threading::Thread& t) {
    if (t.is_alive()) return false;
    t.join();  // already finished: returns at once
    return true;
  });
}

void PoolCore::worker() {
  current_blocking_observer() = this;
  if (initializer_) {
    try {
      initializer_();
    } catch (...) {
      report_initializer_failure();
      initializer_failed();
      current_blocking_observer() = nullptr;
      return;
    }
  }
  while (auto task = next_task()) {
    task->run([&] {
      // The token is given before the result is visible, so a caller that reads it and
      // submits again reuses this worker. Once every worker exists nobody asks for one.
      if (alive_.load(std::memory_order_relaxed) < max_workers) idle_tokens_.fetch_add(1);
    });
    task.reset();
    if (retire_if_surplus()) break;
  }
  current_blocking_observer() = nullptr;
}

// The next task, or null once the pool is shut down and drained.
std::shared_ptr<Task> PoolCore::next_task() {
  if (auto queued = work_queue_.try_get()) return std::move(*queued);
  waiting_.fetch_add(1, std::memory_order_seq_cst);
  std::shared_ptr<Task> task;
  try {
    task = work_queue_.get();
  } catch (const queue::ShutDown&) {
  }
  waiting_.fetch_sub(1, std::memory_order_seq_cst);
  return task;
}

// A worker beyond max_workers runnable ones (a spare whose blocked worker woke) leaves.
bool PoolCore::retire_if_surplus() {
  std::int64_t alive = alive_.load(std::memory_order_relaxed);
  while (alive - blocked_.load(std::memory_order_relaxed) > max_workers)
    if (alive_.compare_exchange_weak(alive, alive - 1)) return true;
  return false;
}

// Python's _initializer_failed: the pool is broken; queued work fails with BrokenThreadPool.
void PoolCore::initializer_failed() {
  std::string reason;
  {
    std::scoped_lock hold(lock_);
    broken_ = "A thread initializer failed, the thread pool is not usable anymore";
    reason = broken_;
  }
  while (auto task = work_queue_.try_get()) {
    auto& future = (*task)->future();
    if (future.set_running_or_notify_cancel())
      future.set_exception(std::make_exception_ptr(BrokenThreadPool(reason)));
  }
}

void PoolCore::shutdown(bool wait, bool cancel_futures) {
  if (forked_away_.load()) return;  // nothing here to stop or wait for
  {
    std::scoped_lock hold(lock_);
    shutdown_ = true;
    if (cancel_futures) {
      // Python cancels queued work; we also acknowledge the cancellation, so wait() and
      // as_completed() count these futures as done instead of waiting for them forever.
      while (auto task = work_queue_.try_get()) {
        (*task)->future().cancel();
        (*task)->future().set_running_or_notify_cancel();
      }
    }
    work_queue_.shutdown();  // workers finish what is queued, then exit
  }
  // One of our own workers cannot wait for the pool: see the header.
  if (!wait || is_own_worker()) return;
  // Spares may start while we wait (a draining task blocks), so repeat until none runs.
  for (;;) {
    std::vector<threading::Thread> running;
    {
      std::scoped_lock hold(lock_);
      for (auto& t : threads_)
        if (t.is_alive()) running.push_back(t);
    }
    if (running.empty()) break;
    for (auto& t : running) t.join();
  }
  std::scoped_lock hold(lock_);
  join_finished_locked();
}

// Python's _python_exit: the executor is not shut down (its own flag stays clear), but its
// workers drain the queue and exit, so threading's shutdown can join them.
void PoolCore::finish_at_exit() {
  if (forked_away_.load()) return;
  std::scoped_lock hold(lock_);
  work_queue_.shutdown();
}

}  // namespace detail

std::int64_t ThreadPoolExecutor::default_max_workers() {
  return std::min<std::int64_t>(32, pyconc::os::process_cpu_count() + 4);
}

ThreadPoolExecutor::ThreadPoolExecutor(ThreadPoolOptions options) {
  const std::int64_t max_workers = options.max_workers ? *options.max_workers : default_max_workers();
  if (max_workers <= 0) throw ValueError("max_workers must be greater than 0");
  std::string prefix = !options.thread_name_prefix.empty()
                           ? std::move(options.thread_name_prefix)
                           : "ThreadPoolExecutor-" + std::to_string(g_pool_counter++);
  core_ = std::make_shared<PoolCore>(max_workers, std::move(prefix), std::move(options.initializer));
  register_exit_hook_once();
  LivePools& live = live_pools();
  std::scoped_lock hold(live.lock);
  live.pools.push_back(core_.get());
}

ThreadPoolExecutor::~ThreadPoolExecutor() {
  {
    LivePools& live = live_pools();
    std::scoped_lock hold(live.lock);
    std::erase(live.pools, core_.get());
  }
  core_->shutdown(true, false);
}

void ThreadPoolExecutor::submit_task(std::shared_ptr<detail::Task> task) {
  core_->submit(std::move(task), live_pools().interpreter_shutdown.load());
}

void ThreadPoolExecutor::shutdown(bool wait, bool cancel_futures) { core_->shutdown(wait, cancel_futures); }

std::int64_t ThreadPoolExecutor::max_workers() const { return core_->max_workers; }

std::size_t ThreadPoolExecutor::thread_count() { return core_->thread_count(); }

}  // namespace pyconc::futures
