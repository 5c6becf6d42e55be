// pyconc::contextvars — Python's contextvars: variables whose value belongs to the running
// context rather than to a thread, so that each asyncio task sees its own (TASK-12).
//
//   pyconc::contextvars::ContextVar<std::string> request_id("request_id", "-");
//   auto token = request_id.set("abc");      // in this context only
//   log(request_id.get());                   // "abc"
//   request_id.reset(token);                 // back to "-"
//
// Each thread starts in a context of its own. A task is created with a copy of its creator's
// context, taken then: what the creator sets later is not seen, what the task sets does not
// leak out. copy_context() and Context::run(f) do the same by hand. Values are copied in and
// out (store a shared_ptr for a large object). Python keeps the mapping in a HAMT; here it
// is copied on write, cheap for the handful of variables a program has.
#pragma once

#include <any>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "pyconc/errors.hpp"

namespace pyconc::contextvars {

namespace detail {
using Values = std::map<std::uint64_t, std::any>;  // variable id -> value
struct ContextData {
  std::shared_ptr<const Values> values = std::make_shared<const Values>();
  bool entered = false;
};
// The context the calling thread runs in.
ContextData& current();
std::uint64_t next_variable_id();
// Enters `context` for the scope (Python's Context.run): RuntimeError if it is entered already.
class Entered {
 public:
  explicit Entered(ContextData& context);
  ~Entered();
  Entered(const Entered&) = delete;
  Entered& operator=(const Entered&) = delete;

 private:
  ContextData* context_;
  ContextData* previous_;
};
void set_value(std::uint64_t variable, std::any value);
void erase_value(std::uint64_t variable);
const std::any* find_value(std::uint64_t variable);
}  // namespace detail

// Python's Context: a snapshot of every variable's value.
class Context {
 public:
  Context() : data_(std::make_shared<detail::ContextData>()) {}  // empty, as Python's Context()
  explicit Context(std::shared_ptr<detail::ContextData> data) : data_(std::move(data)) {}
  // Runs f() with this context as the current one; what f sets stays in this context.
  template <class F>
  decltype(auto) run(F&& f) const {
    detail::Entered scope(*data_);
    return std::forward<F>(f)();
  }
  const std::shared_ptr<detail::ContextData>& data() const { return data_; }

 private:
  std::shared_ptr<detail::ContextData> data_;
};

// Python's copy_context(): a copy of the current context.
Context copy_context();

template <class T>
class ContextVar;

// Python's Token: what set() returns, for reset(). Usable once.
template <class T>
class Token {
 public:
  const std::optional<T>& old_value() const { return old_; }  // none: Python's Token.MISSING

 private:
  friend class ContextVar<T>;
  Token(std::uint64_t variable, const detail::ContextData* context, std::optional<T> old)
      : variable_(variable), context_(context), old_(std::move(old)), used_(std::make_shared<bool>(false)) {}
  std::uint64_t variable_;
  const detail::ContextData* context_;
  std::optional<T> old_;
  std::shared_ptr<bool> used_;
};

template <class T>
class ContextVar {
 public:
  explicit ContextVar(std::string name, std::optional<T> fallback = std::nullopt)
      : name_(std::move(name)), default_(std::move(fallback)), id_(detail::next_variable_id()) {}

  const std::string& name() const { return name_; }
  // The value in the current context, else the variable's default; LookupError without either.
  T get() const {
    if (auto value = lookup()) return *value;
    if (default_) return *default_;
    throw LookupError("<ContextVar name='" + name_ + "'>");
  }
  // Python's get(default): `fallback` takes the place of the variable's own default.
  T get(T fallback) const {
    if (auto value = lookup()) return *value;
    return fallback;
  }
  Token<T> set(T value) {
    Token<T> token(id_, &detail::current(), lookup());
    detail::set_value(id_, std::any(std::move(value)));
    return token;
  }
  // Back to the value before set(): ValueError for another variable's token or one made in
  // another context, RuntimeError for a token used already.
  void reset(const Token<T>& token) {
    if (*token.used_) throw RuntimeError("<Token> has already been used once");
    if (token.variable_ != id_) throw ValueError("<Token> was created by a different ContextVar");
    if (token.context_ != &detail::current()) throw ValueError("<Token> was created in a different Context");
    if (token.old_) {
      detail::set_value(id_, std::any(*token.old_));
    } else {
      detail::erase_value(id_);
    }
    *token.used_ = true;
  }

 private:
  std::optional<T> lookup() const {
    const std::any* found = detail::find_value(id_);
    if (!found) return std::nullopt;
    return std::any_cast<const T&>(*found);
  }
  std::string name_;
  std::optional<T> default_;
  std::uint64_t id_;
};

}  // namespace pyconc::contextvars
