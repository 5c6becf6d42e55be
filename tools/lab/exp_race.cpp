// race: "a missing lock loses updates" (seeds 000 and 002), counted.
//
// `counter += 1` is a read and a write (Python: LOAD, BINARY_OP, STORE). The unlocked
// counter keeps that split with a relaxed atomic load and store — well-defined C++, so the
// program has no undefined behaviour and the *logical* race shows — and steps aside now and
// then between the two, where Python's eval loop may switch threads. Under the GIL the
// check point sits between them too: the GIL does not make `+=` atomic. With a Lock, or
// one atomic read-modify-write, nothing is lost. The bank account is the seed's check-then-
// act withdrawal: two threads both pass the balance check.
#include <pyconc/gil.hpp>
#include <pyconc/threading.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "experiments.hpp"

namespace pyconc::lab {
namespace {

using namespace std::chrono_literals;

struct RaceRun {
  long expected;
  long got;
  long lost() const { return expected - got; }
};

// Runs `increments` on `threads` threads at once; each returns how many increments it made.
RaceRun count_with(int threads, long per_thread, const std::function<long(long)>& increments) {
  threading::Barrier start(threads);
  std::atomic<long> expected{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&] {
      start.wait();
      expected.fetch_add(increments(per_thread));
    });
  for (auto& worker : workers) worker.join();
  return {expected.load(), 0};
}

RaceRun unlocked(int threads, long per_thread) {
  std::atomic<long> counter{0};
  auto run = count_with(threads, per_thread, [&](long n) {
    for (long i = 0; i < n; ++i) {
      const long seen = counter.load(std::memory_order_relaxed);  // LOAD
      if ((i & 255) == 0) std::this_thread::yield();               // a switch may land here
      counter.store(seen + 1, std::memory_order_relaxed);           // STORE
    }
    return n;
  });
  run.got = counter.load();
  return run;
}

// Under the GIL an update is lost only when a forced switch lands between the read and the
// write, and a thread that runs its whole loop before the others are scheduled (a loaded
// machine does that) is never switched. So each thread goes on past `per_thread` until it has
// been switched out once, or is the last one left: the others, unfinished, are all queued for
// the lock, and one of them asks for it within an interval.
RaceRun under_gil(int threads, long per_thread) {
  gil::InterpreterLock gil(500us);  // short slices: several switches even in quick mode
  std::atomic<long> counter{0};
  std::atomic<int> unfinished{threads};
  auto run = count_with(threads, per_thread, [&](long n) {
    std::scoped_lock hold(gil);
    bool switched_out = false;
    long i = 0;
    for (; i < n || (!switched_out && unfinished.load(std::memory_order_relaxed) > 1); ++i) {
      const long seen = counter.load(std::memory_order_relaxed);
      switched_out |= gil.drop_requested();  // check() gives the lock away just below
      gil.check();  // the eval loop's check point between the two bytecodes
      counter.store(seen + 1, std::memory_order_relaxed);
    }
    unfinished.fetch_sub(1);
    return i;
  });
  run.got = counter.load();
  return run;
}

RaceRun with_lock(int threads, long per_thread) {
  threading::Lock lock;
  long counter = 0;
  auto run = count_with(threads, per_thread, [&](long n) {
    for (long i = 0; i < n; ++i) {
      std::scoped_lock hold(lock);  // with lock: counter += 1
      ++counter;
    }
    return n;
  });
  run.got = counter;
  return run;
}

RaceRun atomic_add(int threads, long per_thread) {
  std::atomic<long> counter{0};
  auto run = count_with(threads, per_thread, [&](long n) {
    for (long i = 0; i < n; ++i) counter.fetch_add(1, std::memory_order_relaxed);
    return n;
  });
  run.got = counter.load();
  return run;
}

// The seed's account: 1000 in it, two threads withdraw 800 each. Returns the balance.
long withdraw_twice(bool locked) {
  std::atomic<long> balance{1000};
  threading::Lock lock;
  threading::Barrier start(2);
  auto withdraw = [&] {
    start.wait();
    std::unique_lock hold(lock, std::defer_lock);
    if (locked) hold.lock();
    if (balance.load() < 800) return;  // the check
    std::this_thread::sleep_for(1ms);  // the seed's "DB round trip" between check and act
    balance.fetch_sub(800);            // the act
  };
  std::thread a(withdraw), b(withdraw);
  a.join();
  b.join();
  return balance.load();
}

void counters(const Options& options, Findings& findings) {
  const long per_thread = options.quick ? 1'000'000 : 10'000'000;
  const std::vector<int> thread_counts = options.quick ? std::vector<int>{2, 4}
                                                       : std::vector<int>{2, 4, 8};
  struct Variant {
    const char* name;
    const char* key;
    RaceRun (*run)(int, long);
  };
  const Variant variants[] = {{"no lock (read, then write)", "unlocked", unlocked},
                              {"no lock, under the GIL", "gil", under_gil},
                              {"threading.Lock", "lock", with_lock},
                              {"one atomic fetch_add", "atomic", atomic_add}};
  Table table("counter += 1, " + std::to_string(per_thread) +
                  " times per thread (under the GIL: until switched out once)",
              {"variant", "threads", "expected", "got", "lost", "lost %"});
  Chart chart{"lost", "Updates lost by counter += 1", "threads", "updates lost (%)"};
  for (const auto& variant : variants) {
    Series series{variant.name, {}};
    long lost_total = 0;
    for (int threads : thread_counts) {
      const auto run = variant.run(threads, per_thread);
      const double percent = 100.0 * run.lost() / run.expected;
      table.add({variant.name, std::to_string(threads), std::to_string(run.expected),
                 std::to_string(run.got), std::to_string(run.lost()), fixed(percent, 2)});
      series.points.emplace_back(threads, percent);
      lost_total += run.lost();
    }
    findings.fact(std::string("lost.") + variant.key, double(lost_total));
    chart.series.push_back(std::move(series));
  }
  findings.table(std::move(table));
  findings.chart(std::move(chart));
}

void bank(const Options& options, Findings& findings) {
  const int trials = options.quick ? 20 : 200;
  Table table("The seed's account: 1000 in it, two threads withdraw 800 at once, " +
                  std::to_string(trials) + " trials",
              {"account", "overdrawn (-600)", "correct (200)", "other"});
  for (bool locked : {false, true}) {
    int overdrawn = 0, correct = 0, other = 0;
    for (int trial = 0; trial < trials; ++trial) {
      const long balance = withdraw_twice(locked);
      (balance == -600 ? overdrawn : balance == 200 ? correct : other) += 1;
    }
    table.add({locked ? "check and act under one Lock" : "unsafe (check, then act)",
               std::to_string(overdrawn), std::to_string(correct), std::to_string(other)});
    findings.fact(std::string("bank.overdrawn.") + (locked ? "locked" : "unsafe"), overdrawn);
  }
  findings.table(std::move(table));
}

}  // namespace

void run_race(const Options& options, Findings& findings) {
  counters(options, findings);
  bank(options, findings);
  findings.note("Without a lock, updates are lost, and the GIL does not save them: a switch "
                "between the read and the write loses every update the other thread made "
                "meanwhile. A Lock (or one atomic read-modify-write) loses none.");
}

}  // namespace pyconc::lab
