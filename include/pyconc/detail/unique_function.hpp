// A move-only owning callable (C++23's std::move_only_function, which GCC 12 lacks in
// C++20 mode): thread targets and tasks may capture move-only arguments.
#pragma once

#include <memory>
#include <type_traits>
#include <utility>

namespace pyconc::detail {

template <class Signature>
class UniqueFunction;

template <class R, class... Args>
class UniqueFunction<R(Args...)> {
 public:
  UniqueFunction() = default;
  template <class F, class = std::enable_if_t<!std::is_same_v<std::decay_t<F>, UniqueFunction>>>
  UniqueFunction(F&& f)  // NOLINT: implicit, like std::function
      : impl_(std::make_unique<Model<std::decay_t<F>>>(std::forward<F>(f))) {}

  explicit operator bool() const { return impl_ != nullptr; }
  R operator()(Args... args) { return impl_->call(std::forward<Args>(args)...); }
  void reset() { impl_.reset(); }

 private:
  struct Concept {
    virtual ~Concept() = default;
    virtual R call(Args... args) = 0;
  };
  template <class F>
  struct Model final : Concept {
    explicit Model(F&& f) : f(std::move(f)) {}
    explicit Model(const F& f) : f(f) {}
    R call(Args... args) override { return f(std::forward<Args>(args)...); }
    F f;
  };
  std::unique_ptr<Concept> impl_;
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
