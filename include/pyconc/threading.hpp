// pyconc/threading.hpp — Python's `threading` module, free-threaded.
//
// Lock, RLock, Condition, Semaphore, BoundedSemaphore, Event, Barrier, Timer, local,
// Thread and the module functions (current_thread, main_thread, enumerate, active_count,
// get_ident, get_native_id, excepthook). Every blocking call waits through the one
// parking lot and takes a pyconc::Timeout.
//
//   #include <pyconc/threading.hpp>
//   namespace threading = pyconc::threading;
//   threading::Lock lock;  long counter = 0;
//   threading::Thread t([&] { std::scoped_lock g(lock); ++counter; });
//   t.start(); t.join();
#pragma once

#include "pyconc/errors.hpp"
#include "pyconc/threading/barrier.hpp"
#include "pyconc/threading/condition.hpp"
#include "pyconc/threading/event.hpp"
#include "pyconc/threading/excepthook.hpp"
#include "pyconc/threading/local.hpp"
#include "pyconc/threading/lock.hpp"
#include "pyconc/threading/rlock.hpp"
#include "pyconc/threading/semaphore.hpp"
#include "pyconc/threading/thread.hpp"
#include "pyconc/threading/timer.hpp"
#include "pyconc/timeout.hpp"
