// Start methods and contexts — Python's multiprocessing.get_context / set_start_method.
//
// A Context is the module's API bound to one start method. The default method is
// forkserver, as in Python 3.14 on Linux; set_start_method changes it once (a second call,
// or one after the default was used, raises RuntimeError unless force=true). Code that
// needs one method names it: get_context("fork").Process(...) takes any callable, since a
// forked child shares nothing it has to rebuild; for spawn and forkserver the callable must
// be a plain function with picklable arguments, else start() raises PicklingError.
//
//   auto ctx = pyconc::multiprocessing::get_context("fork");
//   int base = 40;
//   auto p = ctx.Process([base] { std::printf("%d\n", base + 2); });
//   p.start();
//   p.join();
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "pyconc/multiprocessing/process.hpp"

namespace pyconc::multiprocessing {

class Context {
 public:
  explicit Context(StartMethod method) : method_(method) {}

  StartMethod start_method() const { return method_; }
  std::string get_start_method() const;
  Context get_context() const { return *this; }
  // A concrete context's method is fixed: Python raises ValueError here too.
  [[noreturn]] void set_start_method(const std::optional<std::string>& method, bool force = false) const;

  template <class F, class... Args>
  multiprocessing::Process Process(F&& target, Args&&... args) const {
    return Process(ProcessOptions{}, std::forward<F>(target), std::forward<Args>(args)...);
  }
  template <class F, class... Args>
  multiprocessing::Process Process(ProcessOptions options, F&& target, Args&&... args) const {
    return multiprocessing::Process(multiprocessing::Process::FromTarget{}, std::move(options), method_,
                                    detail::make_target(std::forward<F>(target), std::forward<Args>(args)...));
  }

 private:
  StartMethod method_;
};

// get_context() is the default context; get_context("spawn") one method's. An unknown
// name raises ValueError "cannot find context for 'x'".
Context get_context(const std::optional<std::string>& method = std::nullopt);
void set_start_method(const std::optional<std::string>& method, bool force = false);
// The default method's name; fixes the default (as Python does) unless allow_none, which
// returns empty while nothing has fixed it.
std::optional<std::string> get_start_method(bool allow_none = false);
// The methods this platform offers, the default first.
std::vector<std::string> get_all_start_methods();

std::string start_method_name(StartMethod method);

// Python's set_forkserver_preload(module_names): what a forkserver loads once, so that the
// children it forks start with it loaded. Python names modules to import; a C++ program's
// counterpart is shared libraries to dlopen (their constructors run once, in the server).
// A hint: a library that does not load is skipped silently. Only a forkserver started after
// the call is affected (one starts with the first forkserver Process of this process).
void set_forkserver_preload(const std::vector<std::string>& library_names);

}  // namespace pyconc::multiprocessing
