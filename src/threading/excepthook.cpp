#include "pyconc/threading/excepthook.hpp"

#include <atomic>
#include <mutex>
#include <string>

#include "pyconc/detail/type_name.hpp"
#include "pyconc/threading/lock.hpp"
#include "pyconc/threading/thread.hpp"

namespace pyconc::threading {

namespace {
Lock g_hook_lock;
ExceptHook& installed_hook() {
  static ExceptHook* hook = new ExceptHook(default_excepthook);  // outlives daemon threads
  return *hook;
}
std::atomic<std::FILE*> g_stream{stderr};

// The header line, then "Type: message" in one write, so reports from two threads do not
// interleave. The type comes from the hook's arguments, as in Python.
void print_report(std::FILE* out, const std::string& header, const ExceptHookArgs& args) {
  const std::string text =
      header + "\n" + pyconc::detail::describe_exception(args.exc_type, args.exc_value) + "\n";
  std::fputs(text.c_str(), out);
  std::fflush(out);
}
}  // namespace

void default_excepthook(const ExceptHookArgs& args) {
  std::FILE* out = g_stream.load();
  if (!out) return;
  const std::string who =
      args.thread ? args.thread->name() : std::to_string(get_ident());
  print_report(out, "Exception in thread " + who + ":", args);
}

void excepthook(const ExceptHookArgs& args) {
  ExceptHook hook;
  {
    std::scoped_lock hold(g_hook_lock);
    hook = installed_hook();
  }
  try {
    hook(args);
  } catch (...) {
    std::FILE* out = g_stream.load();
    if (!out) return;
    ExceptHookArgs failure{pyconc::detail::current_exception_type_name(),
                           std::current_exception(), args.thread};
    print_report(out, "Exception in threading.excepthook:", failure);
  }
}

ExceptHook set_excepthook(ExceptHook hook) {
  if (!hook) hook = default_excepthook;
  std::scoped_lock hold(g_hook_lock);
  std::swap(installed_hook(), hook);
  return hook;
}

void set_excepthook_stream(std::FILE* stream) { g_stream.store(stream); }

}  // namespace pyconc::threading
