// pyconc/queue.hpp — Python's `queue` module: Queue, LifoQueue, PriorityQueue,
// SimpleQueue and the errors Full, Empty, ShutDown.
//
//   #include <pyconc/queue.hpp>
//   pyconc::queue::Queue<int> q(1024);
//   q.put(42);
//   int x = q.get();
//   q.task_done();
#pragma once

#include "pyconc/queue/errors.hpp"
#include "pyconc/queue/queues.hpp"
#include "pyconc/queue/simple_queue.hpp"
#include "pyconc/timeout.hpp"
