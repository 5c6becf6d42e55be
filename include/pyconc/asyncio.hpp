// pyconc/asyncio.hpp — Python's asyncio on C++20 coroutines: Coroutine<T> (async def),
// Task<T>, Future<T>, the EventLoop (on libuv), run, sleep, create_task, current_task,
// all_tasks, gather, wait_for, shield, wait, Lock, Event, Condition, Semaphore,
// BoundedSemaphore, Barrier, Queue, LifoQueue, PriorityQueue, TaskGroup, timeout,
// timeout_at, to_thread, run_in_executor, run_coroutine_threadsafe, wrap_future,
// StreamReader, and CancelledError (a BaseException, not a std::exception).
//
//   #include <pyconc/asyncio.hpp>
//   namespace asyncio = pyconc::asyncio;
//   asyncio::Coroutine<void> say_hello() {
//     co_await asyncio::sleep(std::chrono::seconds(1));
//     std::puts("Hello");
//   }
//   int main() { asyncio::run(say_hello()); }
#pragma once

#include "pyconc/asyncio/coroutine.hpp"
#include "pyconc/asyncio/errors.hpp"
#include "pyconc/asyncio/event_loop.hpp"
#include "pyconc/asyncio/future.hpp"
#include "pyconc/asyncio/gather.hpp"
#include "pyconc/asyncio/locks.hpp"
#include "pyconc/asyncio/queues.hpp"
#include "pyconc/asyncio/runners.hpp"
#include "pyconc/asyncio/server.hpp"
#include "pyconc/asyncio/streams.hpp"
#include "pyconc/asyncio/subprocess.hpp"
#include "pyconc/asyncio/task.hpp"
#include "pyconc/asyncio/taskgroup.hpp"
#include "pyconc/asyncio/threads.hpp"
#include "pyconc/asyncio/timeouts.hpp"
#include "pyconc/asyncio/transports.hpp"
#include "pyconc/asyncio/wait.hpp"
