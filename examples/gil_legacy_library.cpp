// Recipe: a library that is not thread-safe, shared by four threads under one
// pyconc::gil::InterpreterLock — the GIL's use beyond teaching. Each call into the library
// holds the lock; between calls a thread offers it at a check point (so a waiting thread
// gets a turn every switch interval), and around its slow I/O it lets go (Released), as
// CPython's threads do around a blocking read.
#include <pyconc/gil.hpp>
#include <pyconc/threading.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

// Stands for a legacy C library with global state: it notices when two calls overlap.
namespace legacy {
std::atomic<int> inside{0};
std::atomic<int> overlaps{0};
long total = 0;  // its global state, guarded by nothing but the caller's discipline

void parse_record() {
  if (inside.fetch_add(1) != 0) overlaps.fetch_add(1);
  volatile unsigned work = 0;
  for (int i = 0; i < 5000; ++i) work = work + i;  // some microseconds of parsing
  ++total;
  inside.fetch_sub(1);
}
}  // namespace legacy

int main() {
  pyconc::gil::InterpreterLock gil;  // switch interval: CPython's 5 ms
  constexpr int kThreads = 4, kRecords = 2000;
  pyconc::threading::Barrier start(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&] {
      start.wait();
      std::scoped_lock hold(gil);
      for (int record = 0; record < kRecords; ++record) {
        legacy::parse_record();
        gil.check();  // a waiter that asked gets its turn here
        if (record % 1000 == 999) {
          pyconc::gil::Released io(gil);  // the next batch arrives from the network
          std::this_thread::sleep_for(1ms);
        }
      }
    });
  for (auto& thread : threads) thread.join();

  const auto stats = gil.statistics();
  std::printf("records parsed: %ld of %d\n", legacy::total, kThreads * kRecords);
  std::printf("overlapping calls into the library: %d\n", legacy::overlaps.load());
  std::printf("threads that held the lock: %zu\n", stats.threads.size());
  std::printf("switches: %llu, forced drops: %llu, drop requests: %llu\n",
              static_cast<unsigned long long>(stats.switches),
              static_cast<unsigned long long>(stats.forced_drops),
              static_cast<unsigned long long>(stats.drop_requests));
  for (const auto& thread : stats.threads)
    std::printf("  a thread: %llu turns, longest wait %.1f ms\n",
                static_cast<unsigned long long>(thread.acquisitions),
                std::chrono::duration<double, std::milli>(thread.longest_wait).count());
}
