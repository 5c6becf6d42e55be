// A move-only owning callable (C++23's std::move_only_function, which GCC 12 lacks in
// C++20 mode): thread targets and tasks may capture move-only arguments.
#pragma once

#include <cstddef>
#include <memory>
#include <new>
#include <tuple>
#include <type_traits>
#include <utility>

namespace pyconc::detail {

template <class Signature>
class UniqueFunction;

// Callables of up to 48 bytes (a lambda holding a shared_ptr and a std::function, say) live
// inside the object: scheduling a callback on the event loop then costs no allocation for it.
template <class R, class... Args>
class UniqueFunction<R(Args...)> {
 public:
  UniqueFunction() = default;
  template <class F, class = std::enable_if_t<!std::is_same_v<std::decay_t<F>, UniqueFunction>>>
  UniqueFunction(F&& f) {  // NOLINT: implicit, like std::function
    using Stored = std::decay_t<F>;
    if constexpr (fits_inline<Stored>) {
      ::new (static_cast<void*>(storage_)) Stored(std::forward<F>(f));
      vtable_ = &inline_vtable<Stored>;
    } else {
      ::new (static_cast<void*>(storage_)) Stored*(new Stored(std::forward<F>(f)));
      vtable_ = &heap_vtable<Stored>;
    }
  }
  UniqueFunction(UniqueFunction&& other) noexcept { take(other); }
  UniqueFunction& operator=(UniqueFunction&& other) noexcept {
    if (this != &other) {
      reset();
      take(other);
    }
    return *this;
  }
  UniqueFunction(const UniqueFunction&) = delete;
  UniqueFunction& operator=(const UniqueFunction&) = delete;
  ~UniqueFunction() { reset(); }

  explicit operator bool() const { return vtable_ != nullptr; }
  R operator()(Args... args) { return vtable_->call(storage_, std::forward<Args>(args)...); }
  void reset() {
    if (vtable_) std::exchange(vtable_, nullptr)->destroy(storage_);
  }

 private:
  static constexpr std::size_t inline_size = 48;
  template <class F>
  static constexpr bool fits_inline = sizeof(F) <= inline_size && alignof(F) <= alignof(std::max_align_t) &&
                                      std::is_nothrow_move_constructible_v<F>;
  struct VTable {
    R (*call)(void* storage, Args&&... args);
    void (*move)(void* from, void* to) noexcept;  // constructs in `to`, destroys `from`
    void (*destroy)(void* storage) noexcept;
  };
  template <class F>
  static constexpr VTable inline_vtable = {
      [](void* storage, Args&&... args) -> R { return (*static_cast<F*>(storage))(std::forward<Args>(args)...); },
      [](void* from, void* to) noexcept {
        ::new (to) F(std::move(*static_cast<F*>(from)));
        static_cast<F*>(from)->~F();
      },
      [](void* storage) noexcept { static_cast<F*>(storage)->~F(); }};
  template <class F>
  static constexpr VTable heap_vtable = {
      [](void* storage, Args&&... args) -> R { return (**static_cast<F**>(storage))(std::forward<Args>(args)...); },
      [](void* from, void* to) noexcept { ::new (to) F*(*static_cast<F**>(from)); },
      [](void* storage) noexcept { delete *static_cast<F**>(storage); }};

  void take(UniqueFunction& other) noexcept {
    if (!other.vtable_) return;
    other.vtable_->move(other.storage_, storage_);
    vtable_ = std::exchange(other.vtable_, nullptr);
  }

  alignas(std::max_align_t) unsigned char storage_[inline_size];
  const VTable* vtable_ = nullptr;
};

// Binds a callable and its arguments, decay-copied as std::thread does, into one
// move-only nullary callable.
template <class F, class... Args>
auto bind_call(F&& f, Args&&... args) {
  return [f = std::decay_t<F>(std::forward<F>(f)),
          bound = std::tuple<std::decay_t<Args>...>(std::forward<Args>(args)...)]() mutable {
    return std::apply(f, std::move(bound));
  };
}

}  // namespace pyconc::detail
