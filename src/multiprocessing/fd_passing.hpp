// Internal: the scopes in which export_fd / import_fd work (one per thread).
#pragma once

#include <vector>

#include "pyconc/multiprocessing/fd_passing.hpp"

namespace pyconc::multiprocessing::detail {

// While it lives, export_fd on this thread appends to `fds`.
class FdPassing {
 public:
  explicit FdPassing(std::vector<int>& fds);
  ~FdPassing();
  FdPassing(const FdPassing&) = delete;
  FdPassing& operator=(const FdPassing&) = delete;

 private:
  std::vector<int>* previous_;
};

// While it lives, import_fd on this thread reads from `fds`.
class FdReceiving {
 public:
  explicit FdReceiving(const std::vector<int>& fds);
  ~FdReceiving();
  FdReceiving(const FdReceiving&) = delete;
  FdReceiving& operator=(const FdReceiving&) = delete;

 private:
  const std::vector<int>* previous_;
};

}  // namespace pyconc::multiprocessing::detail
