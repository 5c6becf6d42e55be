#include "pyconc/threading/local.hpp"

#include <sys/syscall.h>
#include <unistd.h>

#include <mutex>
#include <vector>

#include "thread_locals.hpp"

namespace pyconc::threading::detail {

namespace {
// The locals this thread has a value in.
struct ThreadLocals {
  std::vector<std::weak_ptr<LocalSlots>> used;
  void cleanup() {
    auto list = std::move(used);
    used.clear();
    const auto key = pyconc::detail::thread_key();
    for (auto& weak : list)
      if (auto slots = weak.lock()) slots->erase(key);
  }
  ~ThreadLocals() {
    // The main thread's values stay readable from destructors of statics at exit (Python
    // keeps them too); the process is ending, so nothing is leaked for long.
    if (syscall(SYS_gettid) != getpid()) cleanup();
  }
};
thread_local ThreadLocals tls_locals;
}  // namespace

void run_thread_local_cleanup() { tls_locals.cleanup(); }

void* LocalSlots::find(std::uint64_t key) {
  std::scoped_lock hold(lock_);
  auto it = values_.find(key);
  return it == values_.end() ? nullptr : it->second.get();
}

void* LocalSlots::insert(std::uint64_t key, std::shared_ptr<void> value) {
  void* raw = value.get();
  {
    std::scoped_lock hold(lock_);
    values_[key] = std::move(value);
  }
  tls_locals.used.push_back(weak_from_this());
  return raw;
}

void LocalSlots::erase(std::uint64_t key) {
  std::shared_ptr<void> doomed;  // destroyed after the lock is released
  std::scoped_lock hold(lock_);
  if (auto it = values_.find(key); it != values_.end()) {
    doomed = std::move(it->second);
    values_.erase(it);
  }
}

std::size_t LocalSlots::size() {
  std::scoped_lock hold(lock_);
  return values_.size();
}

}  // namespace pyconc::threading::detail
