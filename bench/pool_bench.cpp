// Thread pools, side by side:
//  1. 1,000,000 tiny tasks (return i + 1) submitted from one thread to a 2-worker pool, all
//     results read, each contender in its own process (side_by_side.hpp): pyconc
//     ThreadPoolExecutor against Asio's thread_pool with a
//     std::packaged_task (promise/future) per task, oneTBB task_group (no per-task future:
//     results go to an array), a textbook std::mutex + std::condition_variable pool returning
//     std::futures, and Python's ThreadPoolExecutor (python3, 100,000 tasks, per task).
//  2. Fan-out: 100 tasks that each wait 50 ms, over 10 workers: time above the ideal 0.5 s.
//   build/release/bench/pool_bench [--rounds 5] [--load 2] [--only NAME] [--size TASKS]
#include <asio/post.hpp>
#include <asio/thread_pool.hpp>
#include <tbb/global_control.h>
#include <tbb/task_group.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "pyconc/futures.hpp"
#include "python_peer.hpp"
#include "side_by_side.hpp"

namespace {

using Clock = std::chrono::steady_clock;
constexpr int kWorkers = 2;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

void check_sum(long sum, long tasks) {
  const long expected = tasks * (tasks + 1) / 2;
  if (sum != expected) {
    std::fprintf(stderr, "wrong results: %ld != %ld\n", sum, expected);
    std::exit(1);
  }
}

// Submits `tasks` calls of i + 1, reads every result, returns nanoseconds per task.
template <class Submit, class Get>
double time_tasks(long tasks, Submit submit, Get get) {
  const auto start = Clock::now();
  std::vector<decltype(submit(0L))> futures;
  futures.reserve(tasks);
  for (long i = 0; i < tasks; ++i) futures.push_back(submit(i));
  long sum = 0;
  for (auto& f : futures) sum += get(f);
  const double ns = seconds_since(start) * 1e9 / tasks;
  check_sum(sum, tasks);
  return ns;
}

double run_pyconc(long tasks) {
  pyconc::futures::ThreadPoolExecutor pool(kWorkers);
  return time_tasks(
      tasks, [&](long i) { return pool.submit([i] { return i + 1; }); },
      [](auto& f) { return f.result(); });
}

double run_asio(long tasks) {
  asio::thread_pool pool(kWorkers);
  const double ns = time_tasks(
      tasks,
      [&](long i) {
        std::packaged_task<long()> task([i] { return i + 1; });
        auto future = task.get_future();
        asio::post(pool, std::move(task));
        return future;
      },
      [](auto& f) { return f.get(); });
  pool.join();
  return ns;
}

double run_tbb(long tasks) {
  tbb::global_control workers(tbb::global_control::max_allowed_parallelism, kWorkers);
  std::vector<long> results(tasks);
  tbb::task_group group;
  const auto start = Clock::now();
  for (long i = 0; i < tasks; ++i) group.run([i, &results] { results[i] = i + 1; });
  group.wait();
  long sum = 0;
  for (long r : results) sum += r;
  const double ns = seconds_since(start) * 1e9 / tasks;
  check_sum(sum, tasks);
  return ns;
}

// The textbook pool: one mutex, one condition variable, a deque of std::function.
class TextbookPool {
 public:
  explicit TextbookPool(int n) {
    for (int i = 0; i < n; ++i) workers_.emplace_back([this] { work(); });
  }
  ~TextbookPool() {
    {
      std::scoped_lock lock(mutex_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& w : workers_) w.join();
  }
  template <class F>
  auto submit(F f) {
    auto task = std::make_shared<std::packaged_task<decltype(f())()>>(std::move(f));
    auto future = task->get_future();
    {
      std::scoped_lock lock(mutex_);
      tasks_.emplace_back([task] { (*task)(); });
    }
    cv_.notify_one();
    return future;
  }

 private:
  void work() {
    for (;;) {
      std::function<void()> task;
      {
        std::unique_lock lock(mutex_);
        cv_.wait(lock, [&] { return stop_ || !tasks_.empty(); });
        if (tasks_.empty()) return;
        task = std::move(tasks_.front());
        tasks_.pop_front();
      }
      task();
    }
  }
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  bool stop_ = false;
  std::vector<std::thread> workers_;
};

double run_textbook(long tasks) {
  TextbookPool pool(kWorkers);
  return time_tasks(
      tasks, [&](long i) { return pool.submit([i] { return i + 1; }); },
      [](auto& f) { return f.get(); });
}

// Python's ThreadPoolExecutor, scaled down; ns per task, measured inside Python.
double python_pool() {
  return bench::run_python(
      "import time\n"
      "from concurrent.futures import ThreadPoolExecutor\n"
      "n = 100000\n"
      "with ThreadPoolExecutor(max_workers=2) as ex:\n"
      "    start = time.perf_counter()\n"
      "    fs = [ex.submit(lambda i: i + 1, i) for i in range(n)]\n"
      "    total = sum(f.result() for f in fs)\n"
      "    elapsed = time.perf_counter() - start\n"
      "assert total == n * (n + 1) // 2\n"
      "print(elapsed * 1e9 / n)\n");
}

// 100 waits of 50 ms over 10 workers: the ideal is 10 rounds, 0.5 s.
double fan_out_overhead_ms() {
  pyconc::futures::ThreadPoolExecutor pool(10);
  const auto start = Clock::now();
  std::vector<pyconc::futures::Future<void>> futures;
  for (int i = 0; i < 100; ++i)
    futures.push_back(pool.submit([] { std::this_thread::sleep_for(std::chrono::milliseconds(50)); }));
  for (auto& f : futures) f.result();
  return (seconds_since(start) - 0.5) * 1e3;
}

}  // namespace

int main(int argc, char** argv) {
  const int rc = bench::run_comparison(
      argc, argv,
      {"ThreadPoolExecutor: %ld tiny tasks (return i + 1), 2 workers, every result read",
       "ns/task", false, 1'000'000,
       {
           {"pyconc ThreadPoolExecutor + Future", run_pyconc},
           {"Asio thread_pool + packaged_task", run_asio},
           {"oneTBB task_group (no futures)", run_tbb},
           {"textbook mutex+condvar + std::future", run_textbook},
           {"Python ThreadPoolExecutor (100k tasks)", [](long) { return python_pool(); }},
       }});
  const bool child = argc > 1 && std::string(argv[1]) == "--one";
  if (rc != 0 || child) return rc;
  std::vector<double> overheads;
  for (int r = 0; r < 5; ++r) overheads.push_back(fan_out_overhead_ms());
  std::printf("fan-out, 100 x 50 ms over 10 workers: %.2f ms above the ideal 0.5 s (median of 5)\n",
              bench::median(overheads));
  return 0;
}
