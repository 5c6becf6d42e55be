#include "pyconc/threading/excepthook.hpp"

#include <atomic>
#include <mutex>
#include <string>

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

std::string describe(const std::exception_ptr& e) {
  if (!e) return "";
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    return ex.what();
  } catch (...) {
    return "";
  }
}

void print_report(std::FILE* out, const std::string& header, const ExceptHookArgs& args) {
  const std::string message = describe(args.exc_value);
  std::string text = header + "\n" + args.exc_type;
  if (!message.empty()) text += ": " + message;
  text += "\n";
  std::fputs(text.c_str(), out);  // one call, so reports from two threads do not interleave
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
