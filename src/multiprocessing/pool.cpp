// Python's multiprocessing.Pool: the checks and lifecycle around the shared worker pool.
#include "pyconc/multiprocessing/pool.hpp"

#include "pyconc/os.hpp"

namespace pyconc::multiprocessing {

namespace {

// Python names pool workers after their start method: ForkPoolWorker-1, SpawnPoolWorker-1.
std::string worker_name(StartMethod method) {
  switch (method) {
    case StartMethod::fork:
      return "ForkPoolWorker";
    case StartMethod::spawn:
      return "SpawnPoolWorker";
    case StartMethod::forkserver:
      return "ForkServerPoolWorker";
  }
  return "PoolWorker";
}

detail::WorkerPoolOptions checked_options(std::optional<long> processes, PoolOptions& options) {
  detail::WorkerPoolOptions o;
  o.processes = processes.value_or(pyconc::os::process_cpu_count());
  if (o.processes < 1) throw ValueError("Number of processes must be at least 1");
  if (options.maxtasksperchild && *options.maxtasksperchild < 1)
    throw ValueError("maxtasksperchild must be a positive int or None");
  o.method = options.context ? options.context->start_method() : get_context().start_method();
  o.initializer = std::move(options.initializer);
  o.max_tasks_per_child = options.maxtasksperchild.value_or(0);
  o.start_on_demand = false;
  o.daemon_workers = true;
  o.on_death = detail::WorkerPoolOptions::OnDeath::replace_worker;
  o.worker_name = worker_name(o.method);
  return o;
}

}  // namespace

Pool::Pool(std::optional<long> processes, PoolOptions options) : workers_(checked_options(processes, options)) {}

// The WorkerPool's destructor terminates and joins: what leaving `with Pool()` does.
Pool::~Pool() = default;

void Pool::check_running() const {
  switch (workers_.phase()) {
    case detail::WorkerPool::Phase::running:
      return;
    case detail::WorkerPool::Phase::broken:
      std::rethrow_exception(workers_.broken_error());
    default:
      throw ValueError("Pool not running");
  }
}

void Pool::submit(const detail::TaskCall& call, std::shared_ptr<detail::CallSink> sink) {
  if (!workers_.submit(call, std::move(sink))) check_running();
}

void Pool::close() { workers_.close(); }

void Pool::terminate() {
  workers_.terminate(std::make_exception_ptr(ProcessError("the pool was terminated before the task finished")));
}

void Pool::join() {
  if (workers_.phase() == detail::WorkerPool::Phase::running) throw ValueError("Pool is still running");
  workers_.join();
}

}  // namespace pyconc::multiprocessing
