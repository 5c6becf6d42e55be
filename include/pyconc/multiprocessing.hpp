// pyconc/multiprocessing.hpp — Python's `multiprocessing`: start methods and contexts,
// Process, freeze_support, current_process / parent_process / active_children, Pipe and
// Connection (connection::wait), queues, shared values and locks, Pool and AsyncResult,
// managers (Manager, SyncManager, BaseManager and their proxies),
// futures::ProcessPoolExecutor, and the errors ProcessError, TimeoutError,
// AuthenticationError, BufferTooShort, RemoteError, WorkerLostError, MaybeEncodingError.
//
//   #include <pyconc/multiprocessing.hpp>
//   void worker(int n) { std::printf("작업 %d 시작\n", n); }
//   int main() {
//     pyconc::multiprocessing::freeze_support();
//     pyconc::multiprocessing::Process p(worker, 1);
//     p.start();
//     p.join();
//   }
#pragma once

#include "pyconc/multiprocessing/connection.hpp"
#include "pyconc/multiprocessing/context.hpp"
#include "pyconc/multiprocessing/errors.hpp"
#include "pyconc/multiprocessing/listener.hpp"
#include "pyconc/multiprocessing/managers.hpp"
#include "pyconc/multiprocessing/pool.hpp"
#include "pyconc/multiprocessing/process.hpp"
#include "pyconc/multiprocessing/process_pool_executor.hpp"
#include "pyconc/multiprocessing/queues.hpp"
#include "pyconc/multiprocessing/shared_memory.hpp"
#include "pyconc/multiprocessing/sharedctypes.hpp"
#include "pyconc/multiprocessing/synchronize.hpp"
#include "pyconc/pickle.hpp"
