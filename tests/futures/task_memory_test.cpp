// The task-block allocator (pyconc/futures/task_memory.hpp): blocks are distinct, aligned and
// intact while live, whichever thread frees them; a thread's cached blocks go back to the
// arena when it ends; frees after a thread's cache is gone still work.
#include "pyconc/futures/task_memory.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <random>
#include <set>
#include <vector>

#include "pyconc/futures.hpp"
#include "pyconc/queue.hpp"
#include "support.hpp"

namespace {

using namespace pyconc::testing;
using pyconc::futures::detail::allocate_task_block;
using pyconc::futures::detail::free_task_block;
using pyconc::threading::Thread;

TEST(TaskMemory, BlocksAreAlignedAndWritableAtEverySize) {
  for (std::size_t bytes : {1, 8, 63, 64, 65, 200, 511, 512, 513, 4096}) {
    for (std::size_t align : {8, 16, 64, 128}) {
      void* block = allocate_task_block(bytes, align);
      ASSERT_NE(block, nullptr);
      EXPECT_EQ(reinterpret_cast<std::uintptr_t>(block) % align, 0u) << bytes << " " << align;
      std::memset(block, 0xAB, bytes);
      free_task_block(block, bytes, align);
    }
  }
}

// A block that knows who owns it: producers fill it, consumers on other threads check it
// and free it. Two live blocks that overlapped would overwrite each other's pattern.
struct Stamp {
  std::uint32_t owner, serial;
  std::size_t bytes;
};

void fill(void* block, std::size_t bytes, std::uint32_t owner, std::uint32_t serial) {
  std::memset(block, static_cast<int>(owner * 31 + serial) & 0xFF, bytes);
  Stamp stamp{owner, serial, bytes};
  std::memcpy(block, &stamp, sizeof stamp);
}

bool intact(void* block) {
  Stamp stamp;
  std::memcpy(&stamp, block, sizeof stamp);
  const auto* bytes = static_cast<const unsigned char*>(block);
  const auto expected = static_cast<unsigned char>((stamp.owner * 31 + stamp.serial) & 0xFF);
  for (std::size_t i = sizeof stamp; i < stamp.bytes; ++i)
    if (bytes[i] != expected) return false;
  return true;
}

TEST(TaskMemory, BlocksFreedOnOtherThreadsStayDistinctWhileLive) {
  constexpr int kProducers = 3, kConsumers = 3, kPerProducer = 20000;
  pyconc::queue::Queue<void*> handoff(256);
  std::atomic<int> corrupt{0}, freed{0};
  ThreadGroup producers(kProducers, [&](int id) {
    std::minstd_rand rng(id + 1);
    std::vector<void*> held;  // some blocks live a while, some are freed by their producer
    for (int i = 0; i < kPerProducer; ++i) {
      const std::size_t bytes = sizeof(Stamp) + rng() % 480;
      void* block = allocate_task_block(bytes, 8);
      fill(block, bytes, id, i);
      if (rng() % 4 == 0) {
        held.push_back(block);
      } else {
        handoff.put(block);
      }
      if (held.size() > 64) {
        for (void* b : held) {
          if (!intact(b)) ++corrupt;
          Stamp s;
          std::memcpy(&s, b, sizeof s);
          free_task_block(b, s.bytes, 8);
          ++freed;
        }
        held.clear();
      }
      jitter(rng);
    }
    for (void* b : held) handoff.put(b);
  });
  ThreadGroup consumers(kConsumers, [&](int id) {
    std::minstd_rand rng(100 + id);
    for (;;) {
      void* block = handoff.get();
      if (!block) return;
      if (!intact(block)) ++corrupt;
      Stamp s;
      std::memcpy(&s, block, sizeof s);
      free_task_block(block, s.bytes, 8);
      ++freed;
      jitter(rng);
    }
  });
  producers.join();
  for (int i = 0; i < kConsumers; ++i) handoff.put(nullptr);
  consumers.join();
  EXPECT_EQ(corrupt.load(), 0);
  EXPECT_EQ(freed.load(), kProducers * kPerProducer);
}

// The 449..512-byte class is used by this test only: what the ended thread freed is what
// the next thread to ask for that class gets.
TEST(TaskMemory, AThreadsCachedBlocksGoBackWhenItEnds) {
  constexpr std::size_t kBytes = 500;
  std::set<void*> freed_by_ended_thread;
  Thread t([&] {
    std::vector<void*> blocks;
    for (int i = 0; i < 40; ++i) blocks.push_back(allocate_task_block(kBytes, 8));
    for (void* b : blocks) {
      freed_by_ended_thread.insert(b);
      free_task_block(b, kBytes, 8);
    }
  });
  t.start();
  t.join();
  if (!pyconc::futures::detail::kTaskArena)
    GTEST_SKIP() << "ASan builds use operator new for every block";
  std::vector<void*> again;
  for (int i = 0; i < 40; ++i) again.push_back(allocate_task_block(kBytes, 8));
  int reused = 0;
  for (void* b : again) reused += freed_by_ended_thread.count(b) ? 1 : 0;
  for (void* b : again) free_task_block(b, kBytes, 8);
  EXPECT_GT(reused, 0);
}

// A thread_local destroyed after the thread's block cache frees a block: it goes straight
// to the arena, where the next thread to need that class (385..448 bytes: no other test's
// fixed size) finds it.
constexpr std::size_t kLateFreeBytes = 400;
struct FreesAtThreadExit {
  void* block = nullptr;
  ~FreesAtThreadExit() {
    if (block) free_task_block(block, kLateFreeBytes, 8);
  }
};
thread_local FreesAtThreadExit t_frees_at_exit;

TEST(TaskMemory, FreeAfterTheThreadsCacheIsGone) {
  std::set<void*> freed_late;
  for (int round = 0; round < 20; ++round) {
    Thread t([&] {
      auto& holder = t_frees_at_exit;  // constructed first, so destroyed after the cache
      holder.block = allocate_task_block(kLateFreeBytes, 8);
      std::memset(holder.block, 1, kLateFreeBytes);
      freed_late.insert(holder.block);
    });
    t.start();
    t.join();
  }
  if (!pyconc::futures::detail::kTaskArena)
    GTEST_SKIP() << "ASan builds use operator new for every block";
  std::vector<void*> again;  // one batch: the arena's newest blocks, the last late free first
  for (int i = 0; i < 32; ++i) again.push_back(allocate_task_block(kLateFreeBytes, 8));
  int reused = 0;
  for (void* b : again) reused += freed_late.count(b) ? 1 : 0;
  for (void* b : again) free_task_block(b, kLateFreeBytes, 8);
  EXPECT_GT(reused, 0);
}

// Many threads submitting to one pool and dropping futures in any order: every result right.
TEST(TaskMemory, PoolTasksFromManySubmittersAllComplete) {
  pyconc::futures::ThreadPoolExecutor pool(2);
  std::atomic<long> wrong{0};
  ThreadGroup submitters(4, [&](int id) {
    std::minstd_rand rng(id + 7);
    std::vector<pyconc::futures::Future<long>> pending;
    for (long i = 0; i < 5000; ++i) {
      pending.push_back(pool.submit([i, id] { return i * 10 + id; }));
      if (rng() % 8 == 0) {
        const std::size_t k = rng() % pending.size();
        if (pending[k].result() % 10 != id) ++wrong;
        pending.erase(pending.begin() + static_cast<long>(k));
      }
    }
    for (auto& f : pending)
      if (f.result() % 10 != id) ++wrong;
  });
  submitters.join();
  EXPECT_EQ(wrong.load(), 0);
}

}  // namespace
