// Memory for submitted tasks: each submit allocates one block (the future's state and the
// call together), and a pool's submit loop is dominated by first touches of fresh pages
// (docs/benchmarks.md: a quarter of the submitting thread's time were page faults). Blocks
// up to kLargestTaskBlock bytes come from 2 MiB chunks the kernel may back with one huge
// page, and freed blocks are recycled through per-thread caches: a million tasks touch a
// few dozen chunks instead of 35,000 pages.
//
// The memory is kept for reuse, never returned to the system (as with TBB's scalable
// allocator): a program's peak of live task blocks stays mapped. AddressSanitizer builds use
// plain operator new, so use-after-free of a task is still caught there.
#pragma once

#include <cstddef>
#include <new>

#include "pyconc/detail/sanitizers.hpp"

namespace pyconc::futures::detail {

// Whether blocks come from the arena: not under AddressSanitizer, where every block is its
// own operator new so that ASan sees each free.
inline constexpr bool kTaskArena = !pyconc::detail::kAddressSanitizer;

inline constexpr std::size_t kLargestTaskBlock = 512;
inline constexpr std::size_t kTaskBlockAlign = 64;

// A block of at least `bytes` aligned to `align`; std::bad_alloc when memory is exhausted.
void* allocate_task_block(std::size_t bytes, std::size_t align);
// Gives back a block from allocate_task_block with the same size and alignment.
void free_task_block(void* block, std::size_t bytes, std::size_t align) noexcept;

// The allocator std::allocate_shared uses for tasks (it rebinds it to its control block).
template <class T>
struct TaskAllocator {
  using value_type = T;
  TaskAllocator() = default;
  template <class U>
  TaskAllocator(const TaskAllocator<U>&) noexcept {}
  T* allocate(std::size_t n) {
    return static_cast<T*>(allocate_task_block(n * sizeof(T), alignof(T)));
  }
  void deallocate(T* p, std::size_t n) noexcept { free_task_block(p, n * sizeof(T), alignof(T)); }
  template <class U>
  bool operator==(const TaskAllocator<U>&) const noexcept {
    return true;
  }
};

}  // namespace pyconc::futures::detail
