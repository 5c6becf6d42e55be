// Internal: what a pool's parent and its worker processes say to each other over the
// worker's Connection, and the worker's entry point.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "pyconc/multiprocessing/connection.hpp"
#include "pyconc/multiprocessing/pool_task.hpp"

namespace pyconc::multiprocessing::detail {

// Parent -> worker: run this call (id > 0), or stop (id 0).
struct ToWorker {
  std::uint64_t id = 0;
  LocatedCall call;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(id, call);
  }
};

// Worker -> parent: a call's result or exception, or the initializer's failure.
struct FromWorker {
  enum Kind : std::uint8_t { result, error, initializer_failed };
  Kind kind = result;
  std::uint64_t id = 0;
  std::string bytes;  // pickled result, or pickle::dumps_exception
  template <class Archive>
  void serialize(Archive& archive) {
    archive(kind, id, bytes);
  }
};

// What a worker needs to know when it starts.
struct WorkerSetup {
  std::optional<LocatedCall> initializer;
  std::int64_t max_tasks = 0;  // 0: no limit
  template <class Archive>
  void serialize(Archive& archive) {
    archive(initializer, max_tasks);
  }
};

// A worker process's target: runs calls from `parent` until told to stop, the parent goes
// away, or max_tasks calls are done.
void pool_worker_main(Connection parent, WorkerSetup setup);

// Runs a located call (its code resolved once per process) and returns its pickled result.
std::string run_call(const LocatedCall& call);

// Located code, cached: a pool sends the same few functions again and again.
LocatedCall locate_call(const TaskCall& call);

}  // namespace pyconc::multiprocessing::detail
