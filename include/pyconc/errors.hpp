// pyconc/errors.hpp — the one exception hierarchy.
//
// Python's exceptions as C++ types with the same names, rooted at pyconc::Error (Python's
// Exception). Misuse that Python reports throws the same error here: never undefined
// behaviour, never std::terminate. Module-specific errors (queue::Full, ...) derive from
// these and live in their module's header.
//
//   try { lock.release(); }
//   catch (const pyconc::RuntimeError& e) { std::puts(e.what()); }  // "release unlocked lock"
#pragma once

#include <stdexcept>
#include <string>

namespace pyconc {

// Python's Exception. what() is the message, type_name() the Python class name.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message = "") : std::runtime_error(message) {}
  virtual const char* type_name() const noexcept { return "Error"; }
};

#define PYCONC_DEFINE_ERROR(Name, Base)                                      \
  class Name : public Base {                                                 \
   public:                                                                   \
    explicit Name(const std::string& message = "") : Base(message) {}        \
    const char* type_name() const noexcept override { return #Name; }        \
  }

PYCONC_DEFINE_ERROR(RuntimeError, Error);
PYCONC_DEFINE_ERROR(ValueError, Error);
PYCONC_DEFINE_ERROR(TypeError, Error);
PYCONC_DEFINE_ERROR(OverflowError, Error);
PYCONC_DEFINE_ERROR(TimeoutError, Error);
// Python's SystemExit: raised in a thread it ends the thread silently (no excepthook report).
PYCONC_DEFINE_ERROR(SystemExit, Error);

}  // namespace pyconc
