// prodcons: the seed's five bounded-queue stages (seed 000) under one load, each failure
// counted: V1 (a Lock only) drops items when full; V2 (sleeping with the lock held)
// stalls everyone while it sleeps; V3 (one Condition) wakes threads of the wrong side,
// which find nothing to do and wait again; V4 (two Conditions on one Lock) and V5
// (queue.Queue) lose nothing and waste no wake-ups.
//
// The load: two producers, two consumers, capacity 1, each thread spending about a
// microsecond of CPU per item, so the queue is full and empty by turns and both sides wait.
#include <pyconc/queue.hpp>
#include <pyconc/threading.hpp>

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "experiments.hpp"

namespace pyconc::lab {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kCapacity = 1;
constexpr int kProducers = 2;
constexpr int kConsumers = 2;
constexpr int kDone = -1;  // one per consumer, after the producers finish (V3-V5)

struct Outcome {
  long produced = 0;
  std::atomic<long> delivered{0};
  std::atomic<long> dropped{0};         // V1: put found it full and threw the item away
  std::atomic<long> gave_up{0};         // V2: put slept three times with the lock and gave up
  std::atomic<long> wasted_wakeups{0};  // woke from wait() and found its condition false
  std::atomic<long> wrong_side{0};  // V3/V4: notify() woke a thread of the side that waits
  std::atomic<long> stalls{0};      // V3/V4: every thread waiting, none to wake them
  std::atomic<long> lock_wait_us{0};    // V2: time spent waiting for the lock
  double seconds = 0;
};

void item_work() {  // ~a microsecond of CPU per item, for producers and consumers alike
  volatile unsigned x = 1;
  for (int i = 0; i < 300; ++i) x = x * 3 + 1;
}

// Runs producers (each `put(i)` for its items, then `producer_done()`) and consumers
// (`take()` until it says stop), and times the whole.
void run_stage(Outcome& outcome, long per_producer, const std::function<void(int)>& put,
               const std::function<bool()>& take, const std::function<void()>& producer_done) {
  outcome.produced = per_producer * kProducers;
  const auto started = Clock::now();
  std::vector<std::thread> consumers, producers;
  for (int c = 0; c < kConsumers; ++c)
    consumers.emplace_back([&] {
      while (take()) {
        outcome.delivered.fetch_add(1);
        item_work();
      }
    });
  for (int p = 0; p < kProducers; ++p)
    producers.emplace_back([&] {
      for (long i = 0; i < per_producer; ++i) {
        item_work();
        put(int(i));
      }
      producer_done();
    });
  for (auto& t : producers) t.join();
  for (auto& t : consumers) t.join();
  outcome.seconds = std::chrono::duration<double>(Clock::now() - started).count();
}

// V1: a Lock and nothing else: a full queue drops the item, an empty one gives nothing.
void v1_drop(Outcome& outcome, long per_producer) {
  threading::Lock lock;
  std::deque<int> items;
  std::atomic<int> producers_left{kProducers};
  run_stage(
      outcome, per_producer,
      [&](int item) {
        std::scoped_lock hold(lock);
        if (items.size() >= kCapacity) outcome.dropped.fetch_add(1);
        else items.push_back(item);
      },
      [&] {
        for (;;) {
          {
            std::scoped_lock hold(lock);
            if (!items.empty()) {
              items.pop_front();
              return true;
            }
          }
          if (producers_left.load() == 0) return false;
          std::this_thread::yield();  // poll again
        }
      },
      [&] { producers_left.fetch_sub(1); });
}

// V2: waits by sleeping with the lock held; gives up after three sleeps so the run ends.
void v2_sleep(Outcome& outcome, long per_producer) {
  threading::Lock lock;
  std::deque<int> items;
  std::atomic<int> producers_left{kProducers};
  auto timed_lock = [&] {
    const auto asked = Clock::now();
    lock.acquire();
    outcome.lock_wait_us.fetch_add(
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - asked).count());
  };
  run_stage(
      outcome, per_producer,
      [&](int item) {
        timed_lock();
        std::scoped_lock hold(std::adopt_lock, lock);
        for (int round = 0; items.size() >= kCapacity; ++round) {
          if (round == 3) {
            outcome.gave_up.fetch_add(1);
            return;
          }
          std::this_thread::sleep_for(1ms);  // sleeping with the lock: nobody can take
        }
        items.push_back(item);
      },
      [&] {
        for (;;) {
          timed_lock();
          std::scoped_lock hold(std::adopt_lock, lock);
          for (int round = 0; items.empty() && round < 3; ++round) {
            if (producers_left.load() == 0) return false;
            std::this_thread::sleep_for(1ms);  // and nobody can put
          }
          if (!items.empty()) {
            items.pop_front();
            return true;
          }
        }
      },
      [&] { producers_left.fetch_sub(1); });
}

enum class Side { producer, consumer };

// Who waits on one Condition, in its order. pyconc's Condition wakes its waiters in FIFO
// order, so at notify() time the ledger knows exactly whom the notification wakes, and
// whether that thread is on the side that can now proceed. All under the queue's lock.
class WaitLedger {
 public:
  void enter(Side side) { waiting_.push_back(side); }
  // Just before notify(): counts the wake-up as the wrong side's when it is.
  void notify(Side needed, Outcome& outcome) {
    if (waiting_.empty()) return;
    if (waiting_.front() != needed) outcome.wrong_side.fetch_add(1);
    waiting_.pop_front();
  }
  void notify_all() { waiting_.clear(); }
  std::size_t blocked() const { return waiting_.size(); }  // waiting, no wake-up on the way

 private:
  std::deque<Side> waiting_;
};

// V3 and V4: Conditions. `shared` puts producers and consumers on one Condition (V3).
// Each producer ends with a kDone, each consumer stops at its first kDone.
void v3_v4_conditions(Outcome& outcome, long per_producer, bool shared) {
  static_assert(kProducers == kConsumers, "one kDone per producer stops one consumer");
  threading::Lock lock;
  threading::Condition not_full(lock), not_empty_own(lock);
  threading::Condition& not_empty = shared ? not_full : not_empty_own;
  WaitLedger full_ledger, empty_ledger_own;
  WaitLedger& empty_ledger = shared ? full_ledger : empty_ledger_own;
  int running = kProducers + kConsumers;  // threads not yet finished, under the lock
  // Waits for a notify. When this thread's wait would leave every running thread blocked
  // with no wake-up on the way — the one notification this side needed went to a thread
  // of its own side — the seed's program hangs there for ever: counted as a stall, and
  // broken with notify_all (this thread then looks again instead of waiting) so the run
  // goes on.
  auto wait = [&](threading::Condition& condition, WaitLedger& ledger, Side side) {
    const std::size_t blocked =
        shared ? ledger.blocked() : full_ledger.blocked() + empty_ledger.blocked();
    if (blocked + 1 == std::size_t(running)) {
      outcome.stalls.fetch_add(1);
      full_ledger.notify_all();
      empty_ledger.notify_all();
      not_full.notify_all();
      not_empty.notify_all();
      return;
    }
    ledger.enter(side);
    condition.wait();
  };
  std::deque<int> items;
  auto put = [&](int item) {
    std::scoped_lock hold(lock);
    while (items.size() >= kCapacity) {
      wait(not_full, full_ledger, Side::producer);
      if (items.size() >= kCapacity) outcome.wasted_wakeups.fetch_add(1);
    }
    items.push_back(item);
    empty_ledger.notify(Side::consumer, outcome);
    not_empty.notify();
  };
  run_stage(
      outcome, per_producer, put,
      [&] {
        std::scoped_lock hold(lock);
        while (items.empty()) {
          wait(not_empty, empty_ledger, Side::consumer);
          if (items.empty()) outcome.wasted_wakeups.fetch_add(1);
        }
        const int item = items.front();
        items.pop_front();
        full_ledger.notify(Side::producer, outcome);
        not_full.notify();
        if (item != kDone) return true;
        --running;
        return false;
      },
      [&] {
        put(kDone);
        std::scoped_lock hold(lock);
        --running;
      });
}

void v5_queue(Outcome& outcome, long per_producer) {
  queue::Queue<int> items(kCapacity);
  run_stage(
      outcome, per_producer, [&](int item) { items.put(item); },
      [&] { return items.get() != kDone; }, [&] { items.put(kDone); });
}

}  // namespace

void run_prodcons(const Options& options, Findings& findings) {
  const long per_producer = options.quick ? 20'000 : 200'000;
  const long per_producer_v2 = options.quick ? 100 : 1'000;  // each stall costs milliseconds
  Table table("Five bounded queues (capacity 1), 2 producers and 2 consumers",
              {"stage", "items", "delivered", "dropped", "given up", "wrong-side wake-ups",
               "wasted wake-ups", "stalls", "lock waits ms", "items/s"});
  Chart chart("wakeups", "Wake-ups that could not proceed, per 1000 items", "stage",
              "per 1000 items");
  chart.bars = true;
  Series wrong_series{"woken on the wrong side", {}}, wasted_series{"woke, found nothing", {}};
  struct Stage {
    const char* name;
    const char* key;
    std::function<void(Outcome&)> run;
  };
  const Stage stages[] = {
      {"V1 Lock only (drop)", "v1", [&](Outcome& o) { v1_drop(o, per_producer); }},
      {"V2 sleep holding the lock", "v2", [&](Outcome& o) { v2_sleep(o, per_producer_v2); }},
      {"V3 one Condition", "v3", [&](Outcome& o) { v3_v4_conditions(o, per_producer, true); }},
      {"V4 two Conditions", "v4", [&](Outcome& o) { v3_v4_conditions(o, per_producer, false); }},
      {"V5 queue.Queue", "v5", [&](Outcome& o) { v5_queue(o, per_producer); }},
  };
  for (const auto& stage : stages) {
    Outcome outcome;
    stage.run(outcome);
    const bool instrumented = std::string(stage.key) != "v5";  // Queue's waits are inside it
    table.add({stage.name, std::to_string(outcome.produced),
               std::to_string(outcome.delivered.load()), std::to_string(outcome.dropped.load()),
               std::to_string(outcome.gave_up.load()),
               instrumented ? std::to_string(outcome.wrong_side.load()) : "-",
               instrumented ? std::to_string(outcome.wasted_wakeups.load()) : "-",
               instrumented ? std::to_string(outcome.stalls.load()) : "-",
               fixed(outcome.lock_wait_us.load() / 1000.0, 1),
               fixed(outcome.delivered.load() / outcome.seconds, 0)});
    const std::string key = stage.key;
    findings.fact(key + ".produced", outcome.produced);
    findings.fact(key + ".delivered", outcome.delivered.load());
    findings.fact(key + ".dropped", outcome.dropped.load());
    findings.fact(key + ".gave_up", outcome.gave_up.load());
    findings.fact(key + ".wasted_wakeups", outcome.wasted_wakeups.load());
    findings.fact(key + ".wrong_side", outcome.wrong_side.load());
    findings.fact(key + ".stalls", outcome.stalls.load());
    findings.fact(key + ".lock_wait_ms", outcome.lock_wait_us.load() / 1000.0);
    chart.xtics.push_back(key);
    wrong_series.points.emplace_back(chart.xtics.size(),
                                     1000.0 * outcome.wrong_side.load() / outcome.produced);
    wasted_series.points.emplace_back(chart.xtics.size(),
                                      1000.0 * outcome.wasted_wakeups.load() / outcome.produced);
  }
  findings.table(std::move(table));
  chart.series = {wrong_series, wasted_series};
  findings.chart(std::move(chart));
  findings.note("V1 loses items whenever the queue is full. V2 loses none it keeps, but "
                "every sleep with the lock held stops all the other threads (lock waits), "
                "and a producer that gives up loses its item. V3 loses nothing but its "
                "notify() often wakes a thread of the wrong side (a producer waking a "
                "producer), which waits again; when that was the one wake-up the other side "
                "needed, every thread ends up waiting with nobody to wake them: a stall, "
                "where the seed's program hangs (counted, then broken here with "
                "notify_all so the run goes on). V4's two "
                "conditions wake only the side that can proceed; the wake-ups that still "
                "find nothing are a third thread that took the item first. V5, "
                "queue.Queue, is V4 packaged.");
}

}  // namespace pyconc::lab
