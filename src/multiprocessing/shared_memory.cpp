// Python's multiprocessing.shared_memory.SharedMemory on POSIX shared memory (shm_open), and
// the creator's leak tracking at exit.
#include "pyconc/multiprocessing/shared_memory.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <random>
#include <vector>

#include "detail/built_at_load.hpp"
#include "pyconc/errors.hpp"
#include "pyconc/os.hpp"
#include "pyconc/report.hpp"

namespace pyconc::multiprocessing::shared_memory {

namespace detail {
struct Mapping {
  void* data = nullptr;
  std::size_t size = 0;
  ~Mapping() {
    if (data) ::munmap(data, size);
  }
};
}  // namespace detail

namespace {

[[noreturn]] void throw_os_error(const std::string& what, const std::string& name) {
  const int error = errno;
  const std::string message = "[Errno " + std::to_string(error) + "] " + std::strerror(error) + ": '/" + name + "'";
  (void)what;
  if (error == EEXIST) throw FileExistsError(message);
  if (error == ENOENT) throw FileNotFoundError(message);
  throw OSError(message);
}

// Python's _make_filename: "psm_" and 8 random bytes in hex (POSIX names are short).
std::string random_name() {
  static thread_local std::mt19937_64 random{std::random_device{}()};
  static const char* digits = "0123456789abcdef";
  std::string name = "psm_";
  std::uint64_t bits = random();
  for (int i = 0; i < 16; ++i, bits >>= 4) name += digits[bits & 15];
  return name;
}

// The names this process created and has not unlinked (Python's resource tracker, for the
// creator's normal exit).
struct Tracked {
  std::mutex lock;
  std::vector<std::string> names;
};

Tracked& tracked() {
  static auto* made = [] {
    auto* t = new Tracked;  // never destroyed: read by the exit handler
    // A forked child did not create its parent's blocks: cleaning them up is not its job.
    pyconc::os::detail::fork_protect(t->lock);
    pyconc::os::register_at_fork({}, {}, [t] { t->names.clear(); });
    std::atexit([] {
      Tracked& all = tracked();
      std::vector<std::string> leaked;
      {
        std::scoped_lock hold(all.lock);
        leaked.swap(all.names);
      }
      if (leaked.empty()) return;
      report("UserWarning: resource_tracker: There appear to be " + std::to_string(leaked.size()) +
             " leaked shared_memory objects to clean up at shutdown\n");
      for (const auto& name : leaked) ::shm_unlink(("/" + name).c_str());
    });
    return t;
  }();
  return *made;
}
PYCONC_BUILD_AT_LOAD(tracked());

void track(const std::string& name) {
  std::scoped_lock hold(tracked().lock);
  tracked().names.push_back(name);
}

void untrack(const std::string& name) {
  std::scoped_lock hold(tracked().lock);
  std::erase(tracked().names, name);
}

}  // namespace

SharedMemory::SharedMemory(std::optional<std::string> name, bool create, long long size, bool track_it) {
  if (size < 0) throw ValueError("'size' must be a positive integer");
  if (create && size == 0) throw ValueError("'size' must be a positive number different from zero");
  if (!name && !create) throw ValueError("'name' can only be None if create=True");
  if (name && !name->empty() && name->front() == '/') name->erase(0, 1);
  int fd = -1;
  for (;;) {
    name_ = name ? *name : random_name();
    const std::string path = "/" + name_;
    fd = ::shm_open(path.c_str(), create ? O_RDWR | O_CREAT | O_EXCL : O_RDWR, 0600);
    if (fd >= 0) break;
    if (!name && errno == EEXIST) continue;  // a random name taken: draw again, as Python does
    throw_os_error("shm_open", name_);
  }
  if (create && ::ftruncate(fd, size) != 0) {
    const int error = errno;
    ::close(fd);
    ::shm_unlink(("/" + name_).c_str());
    errno = error;
    throw_os_error("ftruncate", name_);
  }
  struct stat info {};
  ::fstat(fd, &info);
  size_ = static_cast<std::size_t>(info.st_size);
  auto mapping = std::make_shared<detail::Mapping>();
  if (size_ > 0) {
    mapping->data = ::mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (mapping->data == MAP_FAILED) {
      mapping->data = nullptr;
      ::close(fd);
      throw_os_error("mmap", name_);
    }
  }
  mapping->size = size_;
  ::close(fd);  // the mapping keeps the block; the name keeps it findable
  mapping_ = std::move(mapping);
  if (create && track_it) track(name_);
}

std::span<std::byte> SharedMemory::buf() const {
  if (!mapping_) throw ValueError("this SharedMemory is closed (or was never attached)");
  return {static_cast<std::byte*>(mapping_->data), size_};
}

void SharedMemory::close() { mapping_.reset(); }

void SharedMemory::unlink() {
  if (name_.empty()) throw ValueError("this SharedMemory was never attached");
  if (::shm_unlink(("/" + name_).c_str()) != 0) throw_os_error("shm_unlink", name_);
  untrack(name_);
}

}  // namespace pyconc::multiprocessing::shared_memory
