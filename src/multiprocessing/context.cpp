// Start methods and contexts: Python's multiprocessing.context.
#include "pyconc/multiprocessing/context.hpp"

#include <mutex>

#include "detail/built_at_load.hpp"
#include "process_state.hpp"
#include "pyconc/os.hpp"

namespace pyconc::multiprocessing {

namespace {

std::optional<StartMethod> parse(const std::string& name) {
  if (name == "fork") return StartMethod::fork;
  if (name == "spawn") return StartMethod::spawn;
  if (name == "forkserver") return StartMethod::forkserver;
  return std::nullopt;
}

StartMethod parse_or_throw(const std::string& name) {
  if (auto method = parse(name)) return *method;
  throw ValueError("cannot find context for '" + name + "'");
}

// Python's DefaultContext: empty until set_start_method or the first use fixes it.
struct DefaultMethod {
  std::mutex lock;
  std::optional<StartMethod> method;
};
DefaultMethod& default_method() {
  static DefaultMethod* d = [] {
    auto* created = new DefaultMethod;
    pyconc::os::detail::fork_protect(created->lock);
    return created;
  }();
  return *d;
}
PYCONC_BUILD_AT_LOAD(default_method());

}  // namespace

std::string start_method_name(StartMethod method) {
  switch (method) {
    case StartMethod::fork: return "fork";
    case StartMethod::spawn: return "spawn";
    case StartMethod::forkserver: return "forkserver";
  }
  return "?";
}

StartMethod detail::default_start_method() {
  DefaultMethod& d = default_method();
  std::scoped_lock hold(d.lock);
  if (!d.method) d.method = StartMethod::forkserver;  // Python 3.14's default on Linux
  return *d.method;
}

std::string Context::get_start_method() const { return start_method_name(method_); }

void Context::set_start_method(const std::optional<std::string>&, bool) const {
  throw ValueError("cannot set start method of concrete context");
}

Context get_context(const std::optional<std::string>& method) {
  if (!method) return Context(detail::default_start_method());
  return Context(parse_or_throw(*method));
}

void set_start_method(const std::optional<std::string>& method, bool force) {
  DefaultMethod& d = default_method();
  std::scoped_lock hold(d.lock);
  if (d.method && !force) throw RuntimeError("context has already been set");
  if (!method) {
    if (!force) throw ValueError("set_start_method(None) needs force=true");  // Python: resets only with force
    d.method.reset();
    return;
  }
  d.method = parse_or_throw(*method);
}

std::optional<std::string> get_start_method(bool allow_none) {
  if (allow_none) {
    DefaultMethod& d = default_method();
    std::scoped_lock hold(d.lock);
    if (!d.method) return std::nullopt;
    return start_method_name(*d.method);
  }
  return start_method_name(detail::default_start_method());
}

std::vector<std::string> get_all_start_methods() {
  std::vector<std::string> all{"forkserver", "fork", "spawn"};
  return all;
}

}  // namespace pyconc::multiprocessing
