#include "pyconc/multiprocessing/shared_block.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "pyconc/errors.hpp"

namespace pyconc::multiprocessing::detail {

namespace {
[[noreturn]] void throw_os_error(const char* what) { throw OSError(std::string(what) + ": " + std::strerror(errno)); }

void* map_shared(int fd, std::size_t size) {
  void* data = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (data == MAP_FAILED) throw_os_error("mmap");
  return data;
}
}  // namespace

std::shared_ptr<SharedBlock> SharedBlock::create(std::size_t size) {
  const int fd = ::memfd_create("pyconc-shared", MFD_CLOEXEC);
  if (fd < 0) throw_os_error("memfd_create");
  if (::ftruncate(fd, static_cast<off_t>(size)) < 0) {
    ::close(fd);
    throw_os_error("ftruncate");
  }
  try {
    return std::shared_ptr<SharedBlock>(new SharedBlock(fd, map_shared(fd, size), size));
  } catch (...) {
    ::close(fd);
    throw;
  }
}

std::shared_ptr<SharedBlock> SharedBlock::attach(int received) {
  const int fd = ::fcntl(received, F_DUPFD_CLOEXEC, 0);
  if (fd < 0) throw_os_error("dup");
  struct stat info {};
  if (::fstat(fd, &info) < 0) {
    ::close(fd);
    throw_os_error("fstat");
  }
  const auto size = static_cast<std::size_t>(info.st_size);
  try {
    return std::shared_ptr<SharedBlock>(new SharedBlock(fd, map_shared(fd, size), size));
  } catch (...) {
    ::close(fd);
    throw;
  }
}

SharedBlock::~SharedBlock() {
  ::munmap(data_, size_);
  ::close(fd_);
}

}  // namespace pyconc::multiprocessing::detail
