#include "pyconc/futures/task_memory.hpp"

#include <sys/mman.h>

#include <array>
#include <cstdint>
#include <mutex>

#include "detail/built_at_load.hpp"
#include "pyconc/os.hpp"
#include "pyconc/threading/lock.hpp"

namespace pyconc::futures::detail {

namespace {

constexpr std::size_t kClasses = kLargestTaskBlock / kTaskBlockAlign;  // 64, 128, ... bytes
constexpr std::size_t kChunkBytes = std::size_t{2} << 20;              // one huge page
// Blocks moved between a thread's cache and the shared lists at once: one lock per batch.
constexpr int kBatch = 32;

struct FreeBlock {
  FreeBlock* next;
};

struct FreeList {
  FreeBlock* head = nullptr;
  int count = 0;
  void push(FreeBlock* block) {
    block->next = head;
    head = block;
    ++count;
  }
  FreeBlock* pop() {
    FreeBlock* block = head;
    head = block->next;
    --count;
    return block;
  }
};

// Shared by every thread: blocks that caches gave back, and the chunk being carved up.
struct Arena {
  threading::Lock lock;
  std::array<FreeList, kClasses> free;
  char* carve_next = nullptr;
  char* carve_end = nullptr;
};

Arena& arena() {
  static Arena* a = [] {
    auto* created = new Arena;  // never destroyed: tasks may be freed after main() returns
    pyconc::os::detail::fork_protect(created->lock);
    return created;
  }();
  return *a;
}
PYCONC_BUILD_AT_LOAD(arena());

std::size_t class_of(std::size_t bytes) { return (bytes - 1) / kTaskBlockAlign; }
std::size_t size_of_class(std::size_t c) { return (c + 1) * kTaskBlockAlign; }

// A chunk aligned to its size, which lets the kernel back it with one transparent huge page
// (MADV_HUGEPAGE is a hint: without THP it is plain pages, still carved without malloc).
char* map_chunk() {
  void* mapped = mmap(nullptr, 2 * kChunkBytes, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mapped == MAP_FAILED) throw std::bad_alloc();
  const auto start = reinterpret_cast<std::uintptr_t>(mapped);
  const auto aligned = (start + kChunkBytes - 1) & ~(kChunkBytes - 1);
  const auto end = start + 2 * kChunkBytes;
  if (aligned > start) munmap(mapped, aligned - start);
  if (end > aligned + kChunkBytes)
    munmap(reinterpret_cast<void*>(aligned + kChunkBytes), end - aligned - kChunkBytes);
  madvise(reinterpret_cast<void*>(aligned), kChunkBytes, MADV_HUGEPAGE);
  return reinterpret_cast<char*>(aligned);
}

// Under the arena lock: a free block of class c, else a new one carved from the chunk (the
// few bytes left at a chunk's end are abandoned when it cannot fit another block).
FreeBlock* take_one_locked(Arena& a, std::size_t c) {
  if (a.free[c].head) return a.free[c].pop();
  const std::size_t size = size_of_class(c);
  if (static_cast<std::size_t>(a.carve_end - a.carve_next) < size) {
    a.carve_next = map_chunk();
    a.carve_end = a.carve_next + kChunkBytes;
  }
  char* block = a.carve_next;
  a.carve_next += size;
  return ::new (block) FreeBlock{nullptr};
}

void give_back(std::size_t c, FreeList& from, int keep) {
  Arena& a = arena();
  std::scoped_lock hold(a.lock);
  while (from.count > keep) a.free[c].push(from.pop());
}

// Each thread's own free blocks; given back when the thread ends. t_cache_gone tells the
// frees that come later (from other thread_locals' destructors) to go to the arena.
struct ThreadCache {
  std::array<FreeList, kClasses> lists;
  ~ThreadCache();
};
thread_local bool t_cache_gone = false;
thread_local ThreadCache t_cache;

ThreadCache::~ThreadCache() {
  t_cache_gone = true;
  for (std::size_t c = 0; c < kClasses; ++c) give_back(c, lists[c], 0);
}

bool served_by_arena(std::size_t bytes, std::size_t align) {
  return kTaskArena && bytes > 0 && bytes <= kLargestTaskBlock && align <= kTaskBlockAlign;
}

}  // namespace

void* allocate_task_block(std::size_t bytes, std::size_t align) {
  if (!served_by_arena(bytes, align)) return ::operator new(bytes, std::align_val_t(align));
  const std::size_t c = class_of(bytes);
  if (t_cache_gone) {
    Arena& a = arena();
    std::scoped_lock hold(a.lock);
    return take_one_locked(a, c);
  }
  FreeList& mine = t_cache.lists[c];
  if (!mine.head) {
    Arena& a = arena();
    std::scoped_lock hold(a.lock);
    while (mine.count < kBatch) mine.push(take_one_locked(a, c));
  }
  return mine.pop();
}

void free_task_block(void* block, std::size_t bytes, std::size_t align) noexcept {
  if (!served_by_arena(bytes, align)) {
    ::operator delete(block, std::align_val_t(align));
    return;
  }
  const std::size_t c = class_of(bytes);
  auto* freed = ::new (block) FreeBlock{nullptr};
  if (t_cache_gone) {
    Arena& a = arena();
    std::scoped_lock hold(a.lock);
    a.free[c].push(freed);
    return;
  }
  FreeList& mine = t_cache.lists[c];
  mine.push(freed);
  if (mine.count > 2 * kBatch) give_back(c, mine, kBatch);
}

}  // namespace pyconc::futures::detail
