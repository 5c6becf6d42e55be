// raise_os_error: Python's errno → OSError subclass table (Objects/exceptions.c), for the
// subclasses pyconc defines.
#include <cerrno>
#include <cstring>

#include "pyconc/errors.hpp"

namespace pyconc {

void raise_os_error(int error, const std::string& what) {
  const std::string message = what + ": " + std::strerror(error);
  switch (error) {
    case EEXIST: throw FileExistsError(message);
    case ENOENT: throw FileNotFoundError(message);
    case EACCES:
    case EPERM: throw PermissionError(message);
    case ESRCH: throw ProcessLookupError(message);
    case EPIPE:
    case ESHUTDOWN: throw BrokenPipeError(message);
    case ECONNABORTED: throw ConnectionAbortedError(message);
    case ECONNREFUSED: throw ConnectionRefusedError(message);
    case ECONNRESET: throw ConnectionResetError(message);
    case ETIMEDOUT: throw TimeoutError(message);
    default: throw OSError(message);
  }
}

}  // namespace pyconc
