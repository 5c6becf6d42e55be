// queue::Full, queue::Empty, queue::ShutDown — Python's queue exceptions, in the one
// pyconc::Error hierarchy.
#pragma once

#include "pyconc/errors.hpp"

namespace pyconc::queue {

PYCONC_DEFINE_ERROR(Full, Error);
PYCONC_DEFINE_ERROR(Empty, Error);
PYCONC_DEFINE_ERROR(ShutDown, Error);

}  // namespace pyconc::queue
