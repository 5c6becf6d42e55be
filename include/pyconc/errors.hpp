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

#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace pyconc {

// Python's BaseException, for the exceptions that are not errors (asyncio's cancellation):
// deliberately not a std::exception, so that `catch (const std::exception&)` lets it pass,
// as Python's `except Exception` lets a CancelledError pass.
class BaseException {
 public:
  explicit BaseException(std::string message = "") : message_(std::move(message)) {}
  virtual ~BaseException() = default;
  const char* what() const noexcept { return message_.c_str(); }
  virtual const char* type_name() const noexcept { return "BaseException"; }

 private:
  std::string message_;
};

// Python's KeyboardInterrupt: asyncio::run raises it when Ctrl-C (SIGINT) stopped the main task.
class KeyboardInterrupt : public BaseException {
 public:
  explicit KeyboardInterrupt(std::string message = "") : BaseException(std::move(message)) {}
  const char* type_name() const noexcept override { return "KeyboardInterrupt"; }
};

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
// Python's LookupError and its two children: a missing index, a missing key.
PYCONC_DEFINE_ERROR(LookupError, Error);
PYCONC_DEFINE_ERROR(IndexError, LookupError);
PYCONC_DEFINE_ERROR(KeyError, LookupError);
PYCONC_DEFINE_ERROR(AttributeError, Error);
PYCONC_DEFINE_ERROR(TimeoutError, Error);
// Python raises AssertionError for some misuse it checks with `assert` (a process started
// twice, joined before it started); pyconc raises it in the same places.
PYCONC_DEFINE_ERROR(AssertionError, Error);
// Python's OSError and the subclasses pyconc raises (errno-style failures of the OS).
PYCONC_DEFINE_ERROR(OSError, Error);
PYCONC_DEFINE_ERROR(EOFError, Error);
PYCONC_DEFINE_ERROR(FileExistsError, OSError);
PYCONC_DEFINE_ERROR(FileNotFoundError, OSError);
PYCONC_DEFINE_ERROR(PermissionError, OSError);
PYCONC_DEFINE_ERROR(ProcessLookupError, OSError);
PYCONC_DEFINE_ERROR(ConnectionError, OSError);
PYCONC_DEFINE_ERROR(BrokenPipeError, ConnectionError);
PYCONC_DEFINE_ERROR(ConnectionAbortedError, ConnectionError);
PYCONC_DEFINE_ERROR(ConnectionRefusedError, ConnectionError);
PYCONC_DEFINE_ERROR(ConnectionResetError, ConnectionError);
// Throws the OSError subclass Python maps `error` (an errno value) to, with the message
// "what: strerror(error)" — as Python's OSError(errno, strerror) picks its subclass.
[[noreturn]] void raise_os_error(int error, const std::string& what);
// Python's SystemExit (sys.exit): raised in a thread it ends the thread silently (no
// excepthook report); escaping a child process's target it sets the exit code, by Python's
// rule: no argument → 0, an int → that int, a message → printed to stderr, then 1.
class SystemExit : public Error {
 public:
  SystemExit() : code_(0) {}
  explicit SystemExit(int code) : Error(std::to_string(code)), code_(code) {}
  explicit SystemExit(const std::string& message) : Error(message) {}
  const char* type_name() const noexcept override { return "SystemExit"; }
  // The exit code a process ends with; has_message() says whether what() is to be printed.
  int exit_code() const noexcept { return code_.value_or(1); }
  bool has_message() const noexcept { return !code_.has_value(); }

 private:
  std::optional<int> code_;
};

// Python's ExceptionGroup (an Error made of errors: TaskGroup raises one) and
// BaseExceptionGroup (the same when one of them is not an Error). what() is Python's str():
// "message (N sub-exceptions)".
namespace detail {
inline std::string group_text(const std::string& message, std::size_t n) {
  return message + " (" + std::to_string(n) + (n == 1 ? " sub-exception)" : " sub-exceptions)");
}
}  // namespace detail

class ExceptionGroup : public Error {
 public:
  ExceptionGroup(const std::string& message, std::vector<std::exception_ptr> exceptions)
      : Error(detail::group_text(message, exceptions.size())), message_(message), exceptions_(std::move(exceptions)) {}
  explicit ExceptionGroup(const std::string& message = "") : ExceptionGroup(message, {}) {}
  const char* type_name() const noexcept override { return "ExceptionGroup"; }
  const std::string& message() const noexcept { return message_; }
  const std::vector<std::exception_ptr>& exceptions() const noexcept { return exceptions_; }

 private:
  std::string message_;
  std::vector<std::exception_ptr> exceptions_;
};

class BaseExceptionGroup : public BaseException {
 public:
  BaseExceptionGroup(const std::string& message, std::vector<std::exception_ptr> exceptions)
      : BaseException(detail::group_text(message, exceptions.size())), message_(message),
        exceptions_(std::move(exceptions)) {}
  const char* type_name() const noexcept override { return "BaseExceptionGroup"; }
  const std::string& message() const noexcept { return message_; }
  const std::vector<std::exception_ptr>& exceptions() const noexcept { return exceptions_; }

 private:
  std::string message_;
  std::vector<std::exception_ptr> exceptions_;
};

}  // namespace pyconc
