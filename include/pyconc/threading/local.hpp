// pyconc::threading::local<T> — Python's threading.local.
//
// Each thread that touches a local<T> gets its own T, built from the constructor
// arguments given to the local (Python re-runs a subclass's __init__ with the original
// arguments in every new thread). A thread's value is destroyed when that thread ends
// (before join() returns for pyconc threads), or when the local itself is destroyed.
//
//   pyconc::threading::local<std::vector<int>> scratch;        // per-thread vector
//   pyconc::threading::local<Connection> conn("db://host");     // one connection per thread
//   scratch->push_back(1);  conn->query("...");
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <type_traits>
#include <unordered_map>

#include "pyconc/detail/thread_key.hpp"
#include "pyconc/threading/lock.hpp"

namespace pyconc::threading {

namespace detail {
// The type-erased per-thread values of one local, keyed by thread_key().
class LocalSlots : public std::enable_shared_from_this<LocalSlots> {
 public:
  void* find(std::uint64_t key);
  // Stores the calling thread's value and arranges for it to be freed when the thread ends.
  void* insert(std::uint64_t key, std::shared_ptr<void> value);
  void erase(std::uint64_t key);
  std::size_t size();

 private:
  Lock lock_;
  std::unordered_map<std::uint64_t, std::shared_ptr<void>> values_;
};
}  // namespace detail

template <class T>
class local {
 public:
  // Python's TypeError for constructor arguments the value type does not take becomes a
  // compile-time error here.
  template <class... Args>
    requires std::is_constructible_v<T, const Args&...>
  explicit local(Args... args)
      : make_([args...]() -> std::shared_ptr<void> { return std::make_shared<T>(args...); }) {}
  local(const local&) = delete;
  local& operator=(const local&) = delete;

  T& get() {
    const std::uint64_t key = pyconc::detail::thread_key();
    if (void* value = slots_->find(key)) return *static_cast<T*>(value);
    return *static_cast<T*>(slots_->insert(key, make_()));
  }
  T* operator->() { return &get(); }
  T& operator*() { return get(); }
  // How many threads currently hold a value (for tests and monitoring).
  std::size_t size() const { return slots_->size(); }

 private:
  std::function<std::shared_ptr<void>()> make_;
  std::shared_ptr<detail::LocalSlots> slots_ = std::make_shared<detail::LocalSlots>();
};

}  // namespace pyconc::threading
