#include "fd_passing.hpp"

#include <string>

#include "pyconc/pickle.hpp"

namespace pyconc::multiprocessing::detail {

namespace {
thread_local std::vector<int>* t_passing = nullptr;
thread_local const std::vector<int>* t_receiving = nullptr;
}  // namespace

FdPassing::FdPassing(std::vector<int>& fds) : previous_(t_passing) { t_passing = &fds; }
FdPassing::~FdPassing() { t_passing = previous_; }
FdReceiving::FdReceiving(const std::vector<int>& fds) : previous_(t_receiving) { t_receiving = &fds; }
FdReceiving::~FdReceiving() { t_receiving = previous_; }

std::uint32_t export_fd(int fd) {
  if (!t_passing)
    throw pickle::PicklingError(
        "a file descriptor (a Connection) can cross to another process only as an argument of a Process");
  t_passing->push_back(fd);
  return static_cast<std::uint32_t>(t_passing->size() - 1);
}

int import_fd(std::uint32_t index) {
  if (!t_receiving || index >= t_receiving->size())
    throw pickle::UnpicklingError("a file descriptor was not passed to this process (index " +
                                  std::to_string(index) + ")");
  return (*t_receiving)[index];
}

}  // namespace pyconc::multiprocessing::detail
