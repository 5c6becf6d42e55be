#include "pyconc/threading/excepthook.hpp"

#include <mutex>
#include <string>

#include "pyconc/detail/type_name.hpp"
#include "pyconc/os.hpp"
#include "pyconc/report.hpp"
#include "pyconc/threading/lock.hpp"
#include "pyconc/threading/thread.hpp"
#include "detail/built_at_load.hpp"

namespace pyconc::threading {

namespace {
// The installed hook and the lock guarding it; never destroyed (daemon threads may report
// after main() returns), and consistent across fork().
struct HookSlot {
  Lock lock;
  ExceptHook hook = default_excepthook;
};
HookSlot& slot() {
  static HookSlot* s = [] {
    auto* created = new HookSlot;
    pyconc::os::detail::fork_protect(created->lock);
    return created;
  }();
  return *s;
}
PYCONC_BUILD_AT_LOAD(slot());

// The header line, then "Type: message", as one report. The type comes from the hook's
// arguments, as in Python.
void print_report(const std::string& header, const ExceptHookArgs& args) {
  pyconc::report(header + "\n" + pyconc::detail::describe_exception(args.exc_type, args.exc_value) +
                 "\n");
}
}  // namespace

void default_excepthook(const ExceptHookArgs& args) {
  const std::string who = args.thread ? args.thread->name() : std::to_string(get_ident());
  print_report("Exception in thread " + who + ":", args);
}

void excepthook(const ExceptHookArgs& args) {
  ExceptHook hook;
  {
    std::scoped_lock hold(slot().lock);
    hook = slot().hook;
  }
  try {
    hook(args);
  } catch (...) {
    ExceptHookArgs failure{pyconc::detail::current_exception_type_name(),
                           std::current_exception(), args.thread};
    print_report("Exception in threading.excepthook:", failure);
  }
}

ExceptHook set_excepthook(ExceptHook hook) {
  if (!hook) hook = default_excepthook;
  std::scoped_lock hold(slot().lock);
  std::swap(slot().hook, hook);
  return hook;
}

}  // namespace pyconc::threading
