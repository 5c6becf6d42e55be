// Internal: a block of memory shared with child processes (a memfd, mapped MAP_SHARED).
// A forked child inherits the mapping; a spawn or forkserver child gets the descriptor as a
// passed argument (fd_passing.hpp) and maps it again. Process-shared locks and Value/Array
// live in these blocks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "pyconc/multiprocessing/fd_passing.hpp"

namespace pyconc::multiprocessing::detail {

class SharedBlock {
 public:
  // A new zero-filled block of `size` bytes.
  static std::shared_ptr<SharedBlock> create(std::size_t size);
  // Maps the block behind `fd` (a descriptor received by a child; it is duplicated).
  static std::shared_ptr<SharedBlock> attach(int fd);
  ~SharedBlock();
  SharedBlock(const SharedBlock&) = delete;
  SharedBlock& operator=(const SharedBlock&) = delete;

  void* data() const { return data_; }
  std::size_t size() const { return size_; }
  int fd() const { return fd_; }

  template <class Archive>
  static void save(Archive& archive, const std::shared_ptr<SharedBlock>& block) {
    archive(export_fd(block->fd()));
  }
  template <class Archive>
  static std::shared_ptr<SharedBlock> load(Archive& archive) {
    std::uint32_t index = 0;
    archive(index);
    return attach(import_fd(index));
  }

 private:
  SharedBlock(int fd, void* data, std::size_t size) : fd_(fd), data_(data), size_(size) {}
  int fd_;
  void* data_;
  std::size_t size_;
};

}  // namespace pyconc::multiprocessing::detail
