// A pool's worker process: the loop Python's multiprocessing.pool.worker and
// concurrent.futures.process._process_worker run.
#include <algorithm>
#include <map>
#include <utility>

#include "pool_messages.hpp"
#include "pyconc/errors.hpp"
#include "pyconc/multiprocessing/process.hpp"

namespace pyconc::multiprocessing::detail {

namespace {

// resolve_code walks the loaded objects; a worker runs the same functions many times.
const void* resolve_cached(const CodeAddress& where) {
  static thread_local std::map<std::pair<std::string, std::uint64_t>, const void*> cache;
  auto key = std::make_pair(where.object, where.offset);
  auto found = cache.find(key);
  if (found != cache.end()) return found->second;
  const void* code = resolve_code(where);
  cache.emplace(std::move(key), code);
  return code;
}


}  // namespace

std::string run_call(const LocatedCall& call) {
  const auto entry = reinterpret_cast<TaskEntry>(const_cast<void*>(resolve_cached(call.entry)));
  return entry(resolve_cached(call.function), call.args);
}

namespace {

// False when the parent has gone: nobody is left to work for.
bool tell(Connection& parent, const FromWorker& message) {
  try {
    parent.send(message);
    return true;
  } catch (const OSError&) {
    return false;
  }
}

// Waits for the parent's next message; false when the parent has died. A forked worker's
// siblings inherit the parent's end of its connection, so the parent's death alone does
// not end the stream: its pidfd says so.
bool next_message_or_orphaned(Connection& parent, int parent_sentinel) {
  if (parent_sentinel < 0) return true;
  const auto ready = connection::wait(std::vector<int>{parent.fileno(), parent_sentinel});
  return std::find(ready.begin(), ready.end(), parent.fileno()) != ready.end();
}

int parent_sentinel() {
  try {
    if (auto parent = parent_process()) return parent->sentinel();
  } catch (const Error&) {
  }
  return -1;  // the parent had already gone when we started: the stream's end will tell
}

}  // namespace

void pool_worker_main(Connection parent, WorkerSetup setup) {
  const int parent_ended = parent_sentinel();
  if (setup.initializer) {
    try {
      run_call(*setup.initializer);
    } catch (...) {
      tell(parent, {FromWorker::initializer_failed, 0, pickle::dumps_exception(std::current_exception())});
      throw SystemExit(1);  // the parent reports it, once for the pool
    }
  }
  for (std::int64_t done = 0; setup.max_tasks == 0 || done < setup.max_tasks; ++done) {
    ToWorker task;
    if (!next_message_or_orphaned(parent, parent_ended)) return;
    try {
      task = pickle::loads<ToWorker>(parent.recv_bytes());
    } catch (const EOFError&) {
      return;  // the parent closed our connection or died
    }
    if (task.id == 0) return;
    FromWorker answer{FromWorker::result, task.id, {}};
    try {
      answer.bytes = run_call(task.call);
    } catch (...) {
      answer.kind = FromWorker::error;
      answer.bytes = pickle::dumps_exception(std::current_exception());
    }
    if (!tell(parent, answer)) return;
  }
}

}  // namespace pyconc::multiprocessing::detail
