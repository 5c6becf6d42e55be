// pyconc::threading::excepthook — what happens to an exception that escapes a thread.
//
// Python calls threading.excepthook(args); the default prints "Exception in thread NAME:"
// and the error to stderr (through pyconc's report channel, see pyconc/report.hpp), and the
// process goes on. Replace it with set_excepthook();
// default_excepthook is Python's threading.__excepthook__. An exception of type
// pyconc::SystemExit ends a thread silently.
//
//   auto previous = pyconc::threading::set_excepthook([](const auto& args) {
//     log(args.thread ? args.thread->name() : "?", args.exc_type);
//   });
#pragma once

#include <exception>
#include <functional>
#include <optional>
#include <string>

#include "pyconc/threading/thread.hpp"

namespace pyconc::threading {

struct ExceptHookArgs {
  std::string exc_type;           // "ValueError", "std::runtime_error", ...
  std::exception_ptr exc_value;   // rethrow it to inspect
  std::optional<Thread> thread;   // may be empty: the report then names the thread's ident
};

using ExceptHook = std::function<void(const ExceptHookArgs&)>;

// Calls the installed hook; if the hook itself throws, reports that instead.
void excepthook(const ExceptHookArgs& args);
void default_excepthook(const ExceptHookArgs& args);
// Installs a hook (an empty one restores the default); returns the previous one.
ExceptHook set_excepthook(ExceptHook hook);

}  // namespace pyconc::threading
