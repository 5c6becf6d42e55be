// One HTTP/1.1 connection served on a worker's event loop: requests read and parsed as their
// bytes arrive (pipelined ones in turn), each handed to the worker kind's way of running the
// application, the responses written in order; keep-alive, 100-continue, chunked bodies.
#pragma once

#include <memory>

#include "pyconc/asyncio/streams.hpp"
#include "worker_context.hpp"

namespace pyconc::server::detail {

asyncio::Coroutine<void> serve_http(asyncio::StreamReader reader, asyncio::StreamWriter writer,
                                    std::shared_ptr<WorkerContext> context);

}  // namespace pyconc::server::detail
