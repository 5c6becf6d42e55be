// concurrent.futures' exceptions: CancelledError, InvalidStateError, BrokenExecutor and
// BrokenThreadPool, in the one pyconc::Error hierarchy. A timed-out result() throws
// pyconc::TimeoutError, as Python 3.11 raises the builtin TimeoutError.
#pragma once

#include "pyconc/errors.hpp"

namespace pyconc::futures {

PYCONC_DEFINE_ERROR(CancelledError, Error);
PYCONC_DEFINE_ERROR(InvalidStateError, Error);
PYCONC_DEFINE_ERROR(BrokenExecutor, RuntimeError);
PYCONC_DEFINE_ERROR(BrokenThreadPool, BrokenExecutor);
// A ProcessPoolExecutor (or Pool) whose worker died abruptly or failed to initialize.
PYCONC_DEFINE_ERROR(BrokenProcessPool, BrokenExecutor);

}  // namespace pyconc::futures
