// pyconc-serve's built-in application, in both forms (a handler for the sync and gthread
// workers, a coroutine handler for the asyncio worker), answering alike:
//   /            "Hello, World!"
//   /db          waits 10 ms first, like a database call (blocking in a handler, awaited in
//                the coroutine), then answers
//   /cpu?n=N     CPU-bound: counts the primes below N (default 20000)
// With test routes (the test suite's, never a deployment's), also:
//   /pid         the worker's process id       /echo     the request body back
//   /sleep?ms=N  answers after N ms (saying on stderr that it began)
//   /stream      a chunked body of 3 pieces (the coroutine form awaits ?ms=N before each)
//   /upload      the request body's size and checksum, and whether it came streamed
//   /raise       the handler throws (500)       /crash    the worker process aborts
//   /hang        blocks the worker's event loop for good (the arbiter's timeout kills it)
#pragma once

#include "pyconc/server.hpp"

namespace pyconc_serve {

pyconc::server::Application demo_application(bool test_routes);

}  // namespace pyconc_serve
