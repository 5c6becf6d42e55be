// pyconc/futures.hpp — Python's `concurrent.futures`: Future, Executor,
// ThreadPoolExecutor, wait, as_completed, and the errors CancelledError,
// InvalidStateError, BrokenExecutor, BrokenThreadPool (timeouts throw pyconc::TimeoutError).
//
//   #include <pyconc/futures.hpp>
//   pyconc::futures::ThreadPoolExecutor ex(5);
//   auto results = ex.map(fake_io, std::vector{0, 1, 2, 3, 4}).to_vector();  // [0, 10, ...]
//   auto f = ex.submit(fetch, url);
//   for (auto& done : pyconc::futures::as_completed(std::vector{f})) use(done.result());
#pragma once

#include "pyconc/futures/errors.hpp"
#include "pyconc/futures/executor.hpp"
#include "pyconc/futures/future.hpp"
#include "pyconc/futures/thread_pool.hpp"
#include "pyconc/futures/wait.hpp"
#include "pyconc/os.hpp"
#include "pyconc/timeout.hpp"
