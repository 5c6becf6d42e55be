// Internal: the worker processes behind Pool and ProcessPoolExecutor.
//
// One process, the parent, hands calls (pool_task.hpp) to worker processes and gets their
// outcomes back; each worker has its own Connection, and gets a call only when it is idle
// (Python's pools take from one shared queue, which comes to the same order). So the parent
// always knows which call each worker is running, which is what lets a pool say which task
// a dead worker took with it (Python's Pool cannot: its task is lost, POOL-13).
//
// A result-handler thread waits on every worker's connection and sentinel at once: it
// completes calls, hands the next call to the worker that finished, and sees workers end.
// What happens then is the pool's policy:
//   - replace_worker (Pool): the worker is replaced; its call fails with WorkerLostError.
//   - break_pool (ProcessPoolExecutor): every running and pending call fails with
//     BrokenProcessPool, and so does every later submit (PPE-02).
// A worker whose initializer raised breaks the pool under both policies: the error is
// reported once, and every call fails with BrokenProcessPool instead of workers being
// respawned forever (Python's Pool, POOL-14).
#pragma once

#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pyconc/multiprocessing/context.hpp"
#include "pyconc/multiprocessing/pool_task.hpp"

namespace pyconc::multiprocessing::detail {

// How a call ended: its pickled result, or an exception (the call's own, rebuilt from the
// worker; WorkerLostError; BrokenProcessPool; the pool's termination).
struct Outcome {
  std::optional<std::string> result;
  std::exception_ptr error;
};

// Whoever waits for a call. Both methods run on the result-handler thread (or the caller
// of submit/terminate), never under the pool's lock.
class CallSink {
 public:
  virtual ~CallSink() = default;
  // Just before the call is sent; false when it was cancelled meanwhile (it is dropped).
  virtual bool begin() { return true; }
  // False when the outcome could not be taken (a result that does not unpickle): the pool
  // then breaks (under break_pool) and calls finish() again with BrokenProcessPool.
  virtual bool finish(Outcome outcome) = 0;
  // Taken back before it was sent (ProcessPoolExecutor's cancel_futures).
  virtual void cancel() {}
};

struct WorkerPoolOptions {
  enum class OnDeath { replace_worker, break_pool };
  long processes = 1;
  StartMethod method = StartMethod::forkserver;
  Initializer initializer;
  std::int64_t max_tasks_per_child = 0;  // 0: no limit
  bool start_on_demand = false;          // else every worker at once
  bool daemon_workers = true;
  OnDeath on_death = OnDeath::replace_worker;
  std::string worker_name;  // "SpawnPoolWorker": each worker is "<name>-<n>"
};

class WorkerPool {
 public:
  enum class Phase { running, closed, terminated, broken };

  explicit WorkerPool(WorkerPoolOptions options);
  // terminate() and join(), unless this process is a fork of the one that made the pool.
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues a call. Returns false (and does not take the sink) unless the pool is running;
  // phase() then says why.
  bool submit(const TaskCall& call, std::shared_ptr<CallSink> sink);
  // No more calls; workers exit once every queued call is done.
  void close();
  // Stops the workers at once; every call not finished fails with `error`.
  void terminate(std::exception_ptr error);
  // Takes back the calls not yet sent to a worker (ProcessPoolExecutor's cancel_futures).
  std::vector<std::shared_ptr<CallSink>> take_pending();
  // Waits until every worker has exited and the result handler has ended.
  void join();

  Phase phase() const;
  // Why the pool broke (BrokenProcessPool), for errors raised by later submits.
  std::exception_ptr broken_error() const;
  // The live workers' pids, for tests and repr.
  std::vector<pid_t> worker_pids() const;
  std::size_t processes() const;
  // False in a forked child of the process that made the pool (its copy is not usable).
  bool owned_here() const;

  struct Core;

 private:
  std::shared_ptr<Core> core_;
};

}  // namespace pyconc::multiprocessing::detail
