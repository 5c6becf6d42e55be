// pyconc::threading::excepthook — what happens to an exception that escapes a thread.
//
// Python calls threading.excepthook(args); the default prints "Exception in thread NAME:"
// and the error to stderr, and the process goes on. Replace it with set_excepthook();
// default_excepthook is Python's threading.__excepthook__. An exception of type
// pyconc::SystemExit ends a thread silently.
//
//   auto previous = pyconc::threading::set_excepthook([](const auto& args) {
//     log(args.thread ? args.thread->name() : "?", args.exc_type);
//   });
#pragma once

#include <cstdio>
#include <exception>
#include <functional>
#include <string>

namespace pyconc::threading {

class Thread;

struct ExceptHookArgs {
  std::string exc_type;          // "ValueError", "std::runtime_error", ...
  std::exception_ptr exc_value;  // rethrow it to inspect
  Thread* thread = nullptr;      // may be null: the report then names the thread's ident
};

using ExceptHook = std::function<void(const ExceptHookArgs&)>;

// Calls the installed hook; if the hook itself throws, reports that instead.
void excepthook(const ExceptHookArgs& args);
void default_excepthook(const ExceptHookArgs& args);
// Installs a hook (an empty one restores the default); returns the previous one.
ExceptHook set_excepthook(ExceptHook hook);

// Where default reports go; stderr unless a test redirects it. Null means "print nothing".
void set_excepthook_stream(std::FILE* stream);

}  // namespace pyconc::threading
