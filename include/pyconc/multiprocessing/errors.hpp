// multiprocessing's exceptions: ProcessError and its family, in the one pyconc::Error
// hierarchy. multiprocessing::TimeoutError is a ProcessError and not pyconc::TimeoutError,
// as in Python (POOL-01).
#pragma once

#include <string>

#include "pyconc/errors.hpp"
#include "pyconc/pickle.hpp"

namespace pyconc::multiprocessing {

PYCONC_DEFINE_ERROR(ProcessError, Error);
// recv_bytes_into() with a buffer too small: the message is not lost, it travels here.
class BufferTooShort : public ProcessError {
 public:
  explicit BufferTooShort(std::string message)
      : ProcessError("buffer too small for a message of " + std::to_string(message.size()) + " bytes"),
        message_(std::move(message)) {}
  const char* type_name() const noexcept override { return "BufferTooShort"; }
  const std::string& message() const noexcept { return message_; }

 private:
  std::string message_;
};
PYCONC_DEFINE_ERROR(TimeoutError, ProcessError);
PYCONC_DEFINE_ERROR(AuthenticationError, ProcessError);
// A pool worker died while it ran this task (Celery billiard's name; Python's Pool loses
// the task instead, POOL-13).
PYCONC_DEFINE_ERROR(WorkerLostError, ProcessError);
// A pool task's result could not be pickled in the worker (POOL-11).
PYCONC_DEFINE_ERROR(MaybeEncodingError, ProcessError);
using pickle::RemoteError;

}  // namespace pyconc::multiprocessing
