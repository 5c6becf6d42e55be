// Internal: what a Process runs, in the two forms a start method needs. A forked child calls
// the target in place (any callable works: the child has a copy of the parent's memory). A
// spawned child is a fresh image of the program: it gets the target as "this function of
// this program" plus its pickled arguments, which only a plain function allows (Python's
// rule: a lambda or a local function cannot be pickled).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#include "pyconc/detail/type_name.hpp"
#include "pyconc/detail/unique_function.hpp"
#include "pyconc/pickle.hpp"

namespace pyconc::multiprocessing::detail {

// Where a function lives, said so that another process running the same program can find
// it despite address-space randomisation: the loaded object ("" for the executable) and the
// offset from where it is loaded.
struct CodeAddress {
  std::string object;
  std::uint64_t offset = 0;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(object, offset);
  }
};
CodeAddress locate_code(const void* function);
// The function at `where` in this process; RuntimeError when its object is not loaded.
const void* resolve_code(const CodeAddress& where);

// Runs `function` (a plain function of the program) with arguments unpickled from `args`.
using SpawnEntry = void (*)(const void* function, std::string_view args);

template <class R, class... Params>
void spawn_entry(const void* function, std::string_view args) {
  auto target = reinterpret_cast<R (*)(Params...)>(const_cast<void*>(function));
  auto values = pickle::loads<std::tuple<std::decay_t<Params>...>>(args);
  std::apply(target, values);
}

template <class F>
struct PlainFunction : std::false_type {};
template <class R, class... Params>
struct PlainFunction<R (*)(Params...)> : std::true_type {
  static constexpr bool arguments_picklable = (pickle::Picklable<std::decay_t<Params>> && ...);
  using Arguments = std::tuple<std::decay_t<Params>...>;
  static constexpr SpawnEntry entry = &spawn_entry<R, Params...>;
};
template <class R, class... Params>
struct PlainFunction<R (*)(Params...) noexcept> : PlainFunction<R (*)(Params...)> {};

// True when a process running F(Args...) can be started by spawn or forkserver.
template <class F, class... Args>
constexpr bool spawnable() {
  using Fn = std::decay_t<F>;
  if constexpr (PlainFunction<Fn>::value) {
    return PlainFunction<Fn>::arguments_picklable &&
           std::is_constructible_v<typename PlainFunction<Fn>::Arguments, Args&&...>;
  } else {
    return false;
  }
}

struct ProcessTarget {
  pyconc::detail::UniqueFunction<void()> run;  // in a forked child
  std::function<std::string()> pickle_args;    // for a spawned child; empty: cannot spawn
  SpawnEntry entry = nullptr;
  const void* function = nullptr;
  std::string name;  // the callable's name, for reports
};

template <class F, class... Args>
ProcessTarget make_target(F&& f, Args&&... args) {
  using Fn = std::decay_t<F>;
  ProcessTarget target;
  target.name = pyconc::detail::callable_name(f);
  if constexpr (spawnable<F, Args...>()) {
    using Arguments = typename PlainFunction<Fn>::Arguments;
    // One copy of the arguments, converted to the parameter types: a forked child calls the
    // function on it, a spawned one gets it pickled (at start(), as Python pickles then).
    auto values = std::make_shared<Arguments>(std::forward<Args>(args)...);
    Fn function = f;
    target.run = [function, values] { std::apply(function, *values); };
    target.pickle_args = [values] { return pickle::dumps(*values); };
    target.entry = PlainFunction<Fn>::entry;
    target.function = reinterpret_cast<const void*>(function);
  } else {
    static_assert(std::is_invocable_v<Fn&, std::decay_t<Args>&...>,
                  "pyconc::multiprocessing: the target cannot be called with these arguments");
    target.run = pyconc::detail::bind_call(std::forward<F>(f), std::forward<Args>(args)...);
  }
  return target;
}

}  // namespace pyconc::multiprocessing::detail
