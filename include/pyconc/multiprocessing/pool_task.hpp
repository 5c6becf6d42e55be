// Internal: a call that a pool sends to a worker process — Pool's and
// ProcessPoolExecutor's one form of work.
//
// A worker may be a fresh image of the program (spawn, forkserver) or a fork made long
// before the call existed, so a call can never be a closure: it is "this plain function of
// the program" (a CodeAddress, as a spawned Process's target is), an entry trampoline
// instantiated for its signature, and the arguments pickled. The worker runs the trampoline,
// which unpickles the arguments, calls the function and pickles what it returned. Python's
// rule is the same: a pool pickles every task, whatever the start method.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

#include "pyconc/detail/type_name.hpp"
#include "pyconc/multiprocessing/errors.hpp"
#include "pyconc/multiprocessing/target.hpp"
#include "pyconc/pickle.hpp"

namespace pyconc::multiprocessing::detail {

// Runs `function` on the pickled `args` and returns the pickled result.
using TaskEntry = std::string (*)(const void* function, std::string_view args);

struct TaskCall {
  const void* entry = nullptr;     // a TaskEntry; located when sent
  const void* function = nullptr;  // the user's plain function
  std::string args;
  bool empty() const { return function == nullptr; }
};

// What crosses to the worker: the call with its code located.
struct LocatedCall {
  CodeAddress entry;
  CodeAddress function;
  std::string args;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(entry, function, args);
  }
};

// A result that cannot be pickled is Python's MaybeEncodingError, raised in the parent.
template <class V>
std::string pickle_result(const V& value) {
  try {
    return pickle::dumps(value);
  } catch (const pickle::PicklingError& e) {
    throw MaybeEncodingError(std::string("Error sending result: '") + pyconc::detail::demangle(typeid(V).name()) +
                             "'. Reason: '" + e.what() + "'");
  }
}

// One call: args is a tuple of the parameters.
template <class R, class... Params>
std::string call_entry(const void* function, std::string_view args) {
  auto fn = reinterpret_cast<R (*)(Params...)>(const_cast<void*>(function));
  auto values = pickle::loads<std::tuple<std::decay_t<Params>...>>(args);
  if constexpr (std::is_void_v<R>) {
    std::apply(fn, std::move(values));
    return {};
  } else {
    return pickle_result(std::apply(fn, std::move(values)));
  }
}

// A chunk of map()'s calls: args is a vector of parameter tuples, the result a vector.
template <class R, class... Params>
std::string chunk_entry(const void* function, std::string_view args) {
  auto fn = reinterpret_cast<R (*)(Params...)>(const_cast<void*>(function));
  auto chunk = pickle::loads<std::vector<std::tuple<std::decay_t<Params>...>>>(args);
  std::vector<R> results;
  results.reserve(chunk.size());
  for (auto& values : chunk) results.push_back(std::apply(fn, std::move(values)));
  return pickle_result(results);
}

// What a pool can run: a plain function (as a spawned Process's target, target.hpp) whose
// result crosses processes too.
// Anything else: a Result type that keeps the pools' signatures well-formed, so that the
// static_assert in their bodies, with its message, is what the user sees.
struct NotAPoolFunction {};
template <class Fn>
struct PoolFunction : std::false_type {
  using Result = NotAPoolFunction;
  using Arguments = std::tuple<>;
  static constexpr bool crosses = false;
};
template <class R, class... Params>
struct PoolFunction<R (*)(Params...)> : PlainFunction<R (*)(Params...)> {
  using Result = R;
  static constexpr bool crosses = PlainFunction<R (*)(Params...)>::arguments_picklable &&
                                  (std::is_void_v<R> || pickle::Picklable<std::decay_t<R>>);
  static constexpr TaskEntry call = &call_entry<R, Params...>;
  static constexpr TaskEntry chunk = &chunk_entry<R, Params...>;
};
template <class R, class... Params>
struct PoolFunction<R (*)(Params...) noexcept> : PoolFunction<R (*)(Params...)> {};

template <class F, class... Args>
constexpr bool pool_callable() {
  using Fn = std::decay_t<F>;
  if constexpr (PoolFunction<Fn>::value) {
    return PoolFunction<Fn>::crosses && std::is_constructible_v<typename PoolFunction<Fn>::Arguments, Args&&...>;
  } else {
    return false;
  }
}

#define PYCONC_POOL_CALLABLE_MESSAGE                                                                        \
  "pyconc::multiprocessing pools run tasks in other processes: the function must be a plain function (no " \
  "lambda with captures, no std::function) whose parameters and result can cross a process boundary "     \
  "(pyconc::pickle::Picklable), called with arguments convertible to its parameters"

template <class F>
using pool_result_t = typename PoolFunction<std::decay_t<F>>::Result;

// A single call f(args...). Arguments that cannot be pickled at run time (a serialize member
// that throws) raise PicklingError here, in the caller.
template <class F, class... Args>
TaskCall make_call(F f, Args&&... args) {
  using P = PoolFunction<std::decay_t<F>>;
  typename P::Arguments values(std::forward<Args>(args)...);
  return {reinterpret_cast<const void*>(P::call), reinterpret_cast<const void*>(f), pickle::dumps(values)};
}

// A chunk of calls, each element of `chunk` a tuple of f's parameters.
template <class F>
TaskCall make_chunk_call(F f, const std::vector<typename PoolFunction<std::decay_t<F>>::Arguments>& chunk) {
  using P = PoolFunction<std::decay_t<F>>;
  return {reinterpret_cast<const void*>(P::chunk), reinterpret_cast<const void*>(f), pickle::dumps(chunk)};
}

}  // namespace pyconc::multiprocessing::detail

namespace pyconc::multiprocessing {

// Python's initializer= and initargs=: a plain function and its arguments, run once in each
// worker process before it takes any task.
class Initializer {
 public:
  Initializer() = default;
  template <class F, class... Args>
  explicit Initializer(F f, Args&&... args) {
    static_assert(detail::pool_callable<F, Args...>(), PYCONC_POOL_CALLABLE_MESSAGE);
    call_ = detail::make_call(f, std::forward<Args>(args)...);
  }
  explicit operator bool() const { return !call_.empty(); }
  const detail::TaskCall& call() const { return call_; }

 private:
  detail::TaskCall call_;
};

}  // namespace pyconc::multiprocessing
