#include "pyconc/futures/thread_pool.hpp"

#include <algorithm>
#include <cstdio>
#include <mutex>

#include "pyconc/detail/type_name.hpp"
#include "pyconc/os.hpp"

namespace pyconc::futures {

namespace {

std::atomic<std::uint64_t> g_pool_counter{0};

// Python's _python_exit: once interpreter shutdown begins, no pool takes new work, and every
// pool lets its workers finish what is queued; threading's shutdown then joins them.
struct LivePools {
  threading::Lock lock;
  std::vector<ThreadPoolExecutor*> pools;
  std::atomic<bool> interpreter_shutdown{false};
};
LivePools& live_pools() {
  static auto* pools = new LivePools;  // never destroyed: workers may outlive main()
  return *pools;
}

void register_exit_hook_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    try {
      threading::register_atexit([] {
        LivePools& live = live_pools();
        std::scoped_lock hold(live.lock);
        live.interpreter_shutdown = true;
        for (ThreadPoolExecutor* pool : live.pools) pool->finish_at_exit();
      });
    } catch (const RuntimeError&) {
      // Created during shutdown itself: its workers are joined by threading's shutdown.
    }
  });
}

// A worker waiting on a future: woken when the future completes (in any way) or when the
// pool gets new work it could help with.
class HelperWake : public detail::Waiter {
 public:
  void on_done(detail::FutureStateBase*, detail::State) override { event.set(); }
  threading::Event event;
};

void report_initializer_failure() {
  const std::string text = "Exception in initializer:\n" +
                           pyconc::detail::describe_exception(std::current_exception()) + "\n";
  std::fputs(text.c_str(), stderr);
}

}  // namespace

std::int64_t ThreadPoolExecutor::default_max_workers() {
  return std::min<std::int64_t>(32, pyconc::os::process_cpu_count() + 4);
}

ThreadPoolExecutor::ThreadPoolExecutor(ThreadPoolOptions options)
    : max_workers_(options.max_workers ? *options.max_workers : default_max_workers()),
      thread_name_prefix_(!options.thread_name_prefix.empty()
                              ? options.thread_name_prefix
                              : "ThreadPoolExecutor-" + std::to_string(g_pool_counter++)),
      initializer_(std::move(options.initializer)) {
  if (max_workers_ <= 0) throw ValueError("max_workers must be greater than 0");
  register_exit_hook_once();
  LivePools& live = live_pools();
  std::scoped_lock hold(live.lock);
  live.pools.push_back(this);
}

ThreadPoolExecutor::~ThreadPoolExecutor() {
  {
    LivePools& live = live_pools();
    std::scoped_lock hold(live.lock);
    std::erase(live.pools, this);
  }
  shutdown(true);
}

void ThreadPoolExecutor::submit_task(std::shared_ptr<detail::Task> task) {
  {
    std::scoped_lock hold(shutdown_lock_);
    if (!broken_.empty()) throw BrokenThreadPool(broken_);
    if (shutdown_) throw RuntimeError("cannot schedule new futures after shutdown");
    if (live_pools().interpreter_shutdown)
      throw RuntimeError("cannot schedule new futures after interpreter shutdown");
    work_queue_.put(std::move(task));
    adjust_thread_count();
  }
  if (helper_count_.load(std::memory_order_seq_cst) > 0) wake_a_helper();
}

// Python's _adjust_thread_count: an idle worker will take the task; otherwise start one
// more worker, up to max_workers. Called with shutdown_lock_ held. Once every worker is
// started there is nothing to decide, so the idle count (a cache line the workers write
// after every task) is no longer touched.
void ThreadPoolExecutor::adjust_thread_count() {
  if (at_capacity_.load(std::memory_order_relaxed)) return;
  if (idle_semaphore_.acquire(false)) return;
  auto t = std::make_unique<threading::Thread>(
      threading::ThreadOptions{.name = thread_name_prefix_ + "_" + std::to_string(threads_.size()),
                               .daemon = false},
      [this] { worker(); });
  t->start();
  threads_.push_back(std::move(t));
  if (static_cast<std::int64_t>(threads_.size()) >= max_workers_) at_capacity_.store(true);
}

void ThreadPoolExecutor::worker() {
  detail::current_wait_helper() = this;
  if (initializer_) {
    try {
      initializer_();
    } catch (...) {
      report_initializer_failure();
      initializer_failed();
      detail::current_wait_helper() = nullptr;
      return;
    }
  }
  for (;;) {
    std::shared_ptr<detail::Task> task;
    try {
      task = work_queue_.get();
    } catch (const queue::ShutDown&) {
      break;  // shut down and drained
    }
    task->run([this] {
      if (!at_capacity_.load(std::memory_order_relaxed)) idle_semaphore_.release();
    });
    task.reset();
  }
  detail::current_wait_helper() = nullptr;
}

// Python's _initializer_failed: the pool is broken; queued work fails with BrokenThreadPool.
void ThreadPoolExecutor::initializer_failed() {
  std::string reason;
  {
    std::scoped_lock hold(shutdown_lock_);
    broken_ = "A thread initializer failed, the thread pool is not usable anymore";
    reason = broken_;
  }
  while (auto task = work_queue_.try_get()) {
    auto& future = (*task)->future();
    if (future.set_running_or_notify_cancel())
      future.set_exception(std::make_exception_ptr(BrokenThreadPool(reason)));
  }
}

void ThreadPoolExecutor::shutdown(bool wait, bool cancel_futures) {
  std::vector<threading::Thread*> to_join;
  {
    std::scoped_lock hold(shutdown_lock_);
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
    for (auto& t : threads_) to_join.push_back(t.get());
  }
  if (!wait) return;
  const auto me = threading::get_ident();
  for (threading::Thread* t : to_join)
    if (t->ident() != me) t->join();  // a task shutting down its own pool cannot join itself
}

// Python's _python_exit: the executor is not shut down (its own flag stays clear), but its
// workers drain the queue and exit, so threading's shutdown can join them.
void ThreadPoolExecutor::finish_at_exit() {
  std::scoped_lock hold(shutdown_lock_);
  work_queue_.shutdown();
}

std::size_t ThreadPoolExecutor::thread_count() {
  std::scoped_lock hold(shutdown_lock_);
  return threads_.size();
}

bool ThreadPoolExecutor::help_until_done(detail::FutureStateBase& future, const Deadline& deadline) {
  for (;;) {
    if (future.done()) return true;
    if (auto task = work_queue_.try_get()) {
      (*task)->run();
      continue;
    }
    if (deadline.expired()) return future.done();
    HelperWake wake;
    if (!future.add_waiter(&wake)) continue;  // it just completed
    {
      std::scoped_lock hold(helpers_lock_);
      helpers_.push_back(&wake.event);
      helper_count_.fetch_add(1, std::memory_order_seq_cst);
    }
    // Work queued before we were listed would not wake us: look once more, then sleep.
    if (work_queue_.qsize() == 0 && !future.done()) {
      if (deadline.is_never()) {
        wake.event.wait();
      } else {
        wake.event.wait(deadline.remaining());
      }
    }
    {
      std::scoped_lock hold(helpers_lock_);
      std::erase(helpers_, &wake.event);
      helper_count_.fetch_sub(1, std::memory_order_relaxed);
    }
    future.remove_waiter(&wake);
  }
}

void ThreadPoolExecutor::wake_a_helper() {
  std::scoped_lock hold(helpers_lock_);
  if (!helpers_.empty()) helpers_.back()->set();
}

}  // namespace pyconc::futures
