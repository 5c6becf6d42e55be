// Python's concurrent.futures.ProcessPoolExecutor on the shared worker pool.
#include "pyconc/multiprocessing/process_pool_executor.hpp"

#include "pyconc/os.hpp"

namespace pyconc::futures {

namespace {

multiprocessing::detail::WorkerPoolOptions checked_options(std::optional<long> max_workers,
                                                           ProcessPoolOptions& options) {
  using multiprocessing::StartMethod;
  multiprocessing::detail::WorkerPoolOptions o;
  o.processes = max_workers.value_or(pyconc::os::process_cpu_count());
  if (o.processes <= 0) throw ValueError("max_workers must be greater than 0");
  if (options.max_tasks_per_child) {
    if (*options.max_tasks_per_child < 1) throw ValueError("max_tasks_per_child must be >= 1");
    if (options.mp_context && options.mp_context->start_method() == StartMethod::fork)
      throw ValueError(
          "max_tasks_per_child is incompatible with the 'fork' multiprocessing start method; supply a different "
          "mp_context.");
  }
  if (options.mp_context) {
    o.method = options.mp_context->start_method();
  } else {
    o.method = options.max_tasks_per_child ? StartMethod::spawn : multiprocessing::get_context().start_method();
  }
  o.initializer = std::move(options.initializer);
  o.max_tasks_per_child = options.max_tasks_per_child.value_or(0);
  o.start_on_demand = o.method != StartMethod::fork;
  o.daemon_workers = false;
  o.on_death = multiprocessing::detail::WorkerPoolOptions::OnDeath::break_pool;
  o.worker_name = o.method == StartMethod::fork ? "ForkProcess" : o.method == StartMethod::spawn ? "SpawnProcess"
                                                                                                  : "ForkServerProcess";
  return o;
}

}  // namespace

namespace detail {
std::exception_ptr as_executor_error(std::exception_ptr error) {
  try {
    std::rethrow_exception(error);
  } catch (const multiprocessing::MaybeEncodingError& e) {
    return std::make_exception_ptr(pickle::PicklingError(e.what()));
  } catch (...) {
    return error;
  }
}
}  // namespace detail

ProcessPoolExecutor::ProcessPoolExecutor(std::optional<long> max_workers, ProcessPoolOptions options)
    : workers_(checked_options(max_workers, options)) {}

ProcessPoolExecutor::~ProcessPoolExecutor() {
  if (workers_.owned_here()) shutdown(true);  // a fork's copy has nothing to wait for
}

void ProcessPoolExecutor::check_accepting() const {
  using Phase = multiprocessing::detail::WorkerPool::Phase;
  const Phase phase = workers_.phase();
  if (phase == Phase::broken) std::rethrow_exception(workers_.broken_error());
  if (phase != Phase::running) throw RuntimeError("cannot schedule new futures after shutdown");
}

void ProcessPoolExecutor::send(const multiprocessing::detail::TaskCall& call,
                               std::shared_ptr<multiprocessing::detail::CallSink> sink) {
  if (!workers_.submit(call, std::move(sink))) check_accepting();
}

void ProcessPoolExecutor::submit_task(std::shared_ptr<detail::Task> task) {
  check_accepting();
  task->future().set_exception(std::make_exception_ptr(pickle::PicklingError(
      "ProcessPoolExecutor: a callable submitted through Executor& cannot be sent to another process; call "
      "ProcessPoolExecutor::submit with a plain function")));
}

void ProcessPoolExecutor::shutdown(bool wait, bool cancel_futures) {
  if (cancel_futures)
    for (auto& sink : workers_.take_pending()) sink->cancel();
  workers_.close();
  if (wait) workers_.join();
}

}  // namespace pyconc::futures
