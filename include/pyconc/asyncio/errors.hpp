// pyconc::asyncio's exceptions.
//
// CancelledError is Python's BaseException, not an Exception, so that code catching "every
// error" does not swallow a cancellation by accident (Python 3.8 made it so for this reason).
// Here it derives from pyconc::BaseException, which is not a std::exception: a
// `catch (const std::exception&)` or `catch (const pyconc::Error&)` lets it pass, and only
// `catch (const asyncio::CancelledError&)` (or `catch (...)`) stops it. Its message is the
// one given to Task::cancel(msg) (Python's args: (msg,)), empty when none was.
//
// A timeout is the builtin pyconc::TimeoutError, as in Python 3.11. InvalidStateError is
// concurrent.futures'. Nothing else is new.
#pragma once

#include <string>

#include "pyconc/errors.hpp"
#include "pyconc/futures/errors.hpp"

namespace pyconc::asyncio {

class CancelledError : public BaseException {
 public:
  explicit CancelledError(std::string message = "") : BaseException(std::move(message)) {}
  const char* type_name() const noexcept override { return "CancelledError"; }
};

using futures::InvalidStateError;
using pyconc::TimeoutError;

}  // namespace pyconc::asyncio
