// The parent side of a process pool: hands calls to idle workers, reads their outcomes on
// one result-handler thread, and replaces or mourns the workers that end (worker_pool.hpp).
#include "pyconc/multiprocessing/worker_pool.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <deque>
#include <list>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

#include "detail/built_at_load.hpp"
#include "pool_messages.hpp"
#include "pyconc/detail/type_name.hpp"
#include "pyconc/futures/errors.hpp"
#include "pyconc/os.hpp"
#include "pyconc/report.hpp"
#include "pyconc/threading/condition.hpp"
#include "pyconc/threading/lock.hpp"
#include "pyconc/threading/thread.hpp"

namespace pyconc::multiprocessing::detail {

LocatedCall locate_call(const TaskCall& call) {
  // dl_iterate_phdr walks every loaded object; a pool sends the same few functions.
  static thread_local std::unordered_map<const void*, CodeAddress> cache;
  auto locate = [](const void* code) -> const CodeAddress& {
    auto found = cache.find(code);
    if (found == cache.end()) found = cache.emplace(code, locate_code(code)).first;
    return found->second;
  };
  return {locate(call.entry), locate(call.function), call.args};
}

namespace {

std::string signal_name(int signal) {
  const char* abbrev = ::sigabbrev_np(signal);
  return abbrev ? std::string("SIG") + abbrev : "signal " + std::to_string(signal);
}

// Celery billiard's words for a worker that died with a task (POOL-13).
std::exception_ptr worker_lost(std::optional<int> exitcode, std::uint64_t id) {
  std::string how = "Worker exited prematurely: ";
  const int code = exitcode.value_or(0);
  how += code < 0 ? "signal " + std::to_string(-code) + " (" + signal_name(-code) + ")"
                  : "exitcode " + std::to_string(code);
  return std::make_exception_ptr(WorkerLostError(how + " Job: " + std::to_string(id) + "."));
}

// A result that cannot be pickled in a worker crosses as what it is.
PYCONC_BUILD_AT_LOAD(pickle::register_exception<MaybeEncodingError>());

std::exception_ptr broken_pool(const std::string& why) {
  return std::make_exception_ptr(futures::BrokenProcessPool(why));
}

void finish_all(std::vector<std::shared_ptr<CallSink>>& sinks, const std::exception_ptr& error) {
  for (auto& sink : sinks) {
    try {
      sink->finish({std::nullopt, error});
    } catch (...) {
      report("Exception in a pool's result handler:\n" + pyconc::detail::describe_exception(std::current_exception()) +
             "\n");
    }
  }
  sinks.clear();
}

}  // namespace

struct WorkerPool::Core : std::enable_shared_from_this<Core> {
  struct Running {
    std::uint64_t id;
    std::shared_ptr<CallSink> sink;
  };
  struct Worker {
    Process process;
    Connection connection;
    int sentinel;
    std::optional<Running> running;
    std::int64_t sent = 0;
    bool stopping = false;  // told to stop, or past its last task: its exit is expected
  };
  struct Pending {
    std::uint64_t id;
    std::string message;  // the pickled ToWorker
    std::shared_ptr<CallSink> sink;
  };
  // A message to send once the lock is dropped (a send may block on a large message).
  struct Send {
    Connection connection;
    std::string message;
  };

  explicit Core(WorkerPoolOptions o) : options(std::move(o)), owner(::getpid()) {
    wake_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wake_fd < 0) throw OSError(std::string("eventfd: ") + std::strerror(errno));
    if (options.initializer) setup.initializer = locate_call(options.initializer.call());
    setup.max_tasks = options.max_tasks_per_child;
  }
  ~Core() { ::close(wake_fd); }

  WorkerPoolOptions options;
  WorkerSetup setup;
  const std::string stop_message = pickle::dumps(ToWorker{});  // also sent from exit hooks
  const pid_t owner;
  int wake_fd = -1;
  std::atomic<std::uint64_t> next_id{1};

  mutable threading::Lock lock;
  Phase phase = Phase::running;
  std::exception_ptr broken;
  std::deque<Pending> pending;
  std::list<Worker> workers;  // stable addresses: the handler keeps pointers across a poll
  long starting = 0;          // workers being started outside the lock
  long named = 0;
  std::optional<threading::Thread> handler;
  std::atomic<std::uint64_t> handler_ident{0};

  void wake() {
    const std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake_fd, &one, sizeof one);
  }
  bool is_handler_thread() const { return handler_ident.load() == threading::get_ident(); }

  // --- starting workers -------------------------------------------------------------

  // How many workers to start now (reserved as `starting`).
  long workers_wanted_locked() const {
    const long have = static_cast<long>(workers.size()) + starting;
    if (phase == Phase::running && !options.start_on_demand) return options.processes - have;
    if (phase != Phase::running && phase != Phase::closed) return 0;
    long idle = starting;
    for (const Worker& w : workers) idle += !w.running && !w.stopping;
    const long needed = static_cast<long>(pending.size()) - idle;
    return std::max(0L, std::min(needed, options.processes - have));
  }

  // Starts the workers wanted now. A start that fails breaks the pool (every call fails
  // with BrokenProcessPool naming the cause); the cause itself is returned, for the caller
  // whose call made the pool start a worker (Python raises it from Pool() or submit()).
  std::exception_ptr start_workers(std::unique_lock<threading::Lock>& hold) {
    long n = workers_wanted_locked();
    if (n <= 0) return nullptr;
    for (; n > 0; --n) {
      ++starting;
      const long number = ++named;
      hold.unlock();
      std::optional<Worker> made;
      std::exception_ptr failed;
      try {
        made = start_worker(number);
      } catch (...) {
        failed = std::current_exception();
      }
      hold.lock();
      --starting;
      if (failed) {
        break_and_fail(hold,
                       "A process of the pool could not be started: " + pyconc::detail::describe_exception(failed));
        return failed;
      }
      workers.push_back(std::move(*made));
      if (phase != Phase::running && phase != Phase::closed) workers.back().process.terminate();
      std::vector<Send> sends;
      dispatch_locked(workers.back(), sends);
      send_unlocked(hold, sends);
    }
    wake();
    return nullptr;
  }

  Worker start_worker(long number) {
    auto [ours, theirs] = Pipe();
    ProcessOptions process_options;
    process_options.name = options.worker_name + "-" + std::to_string(number);
    process_options.daemon = options.daemon_workers;
    Process process = Context(options.method).Process(process_options, &pool_worker_main, theirs, setup);
    process.start();
    theirs.close();
    const int sentinel = process.sentinel();
    return Worker{std::move(process), std::move(ours), sentinel, std::nullopt, 0, false};
  }

  // --- handing out calls ---------------------------------------------------------------

  // Gives `w` the next pending call if it is idle (or, once the pool is closed and nothing
  // is left, tells it to stop).
  void dispatch_locked(Worker& w, std::vector<Send>& sends) {
    if (w.running || w.stopping) return;
    while (!pending.empty()) {
      Pending next = std::move(pending.front());
      pending.pop_front();
      if (!next.sink->begin()) continue;  // cancelled while it waited
      w.running = Running{next.id, std::move(next.sink)};
      ++w.sent;
      if (options.max_tasks_per_child > 0 && w.sent >= options.max_tasks_per_child) w.stopping = true;
      sends.push_back({w.connection, std::move(next.message)});
      return;
    }
    if (phase == Phase::closed) {
      w.stopping = true;
      sends.push_back({w.connection, stop_message});
    }
  }

  void dispatch_all_locked(std::vector<Send>& sends) {
    for (Worker& w : workers) dispatch_locked(w, sends);
  }

  // A worker that has died cannot take a message: its death is seen through its sentinel.
  static void send_unlocked(std::unique_lock<threading::Lock>& hold, std::vector<Send>& sends) {
    if (sends.empty()) return;
    hold.unlock();
    for (Send& s : sends) {
      try {
        s.connection.send_bytes(s.message);
      } catch (const OSError&) {
      }
    }
    sends.clear();
    hold.lock();
  }

  // --- the pool's phases -------------------------------------------------------------

  void take_all_calls_locked(std::vector<std::shared_ptr<CallSink>>& sinks) {
    for (Pending& p : pending) sinks.push_back(std::move(p.sink));
    pending.clear();
    for (Worker& w : workers) {
      if (w.running) sinks.push_back(std::move(w.running->sink));
      w.running.reset();
    }
  }

  void stop_workers_locked() {
    for (Worker& w : workers) {
      w.stopping = true;
      w.process.terminate();
    }
  }

  void break_locked(const std::string& why, std::vector<std::shared_ptr<CallSink>>& sinks) {
    if (phase == Phase::broken || phase == Phase::terminated) return;
    phase = Phase::broken;
    broken = broken_pool(why);
    take_all_calls_locked(sinks);
    stop_workers_locked();
    wake();
  }

  // Breaks the pool and fails every call it held (and `also`), with the lock dropped while
  // their sinks run; the lock is held again on return.
  void break_and_fail(std::unique_lock<threading::Lock>& hold, const std::string& why,
                      std::shared_ptr<CallSink> also = nullptr) {
    std::vector<std::shared_ptr<CallSink>> sinks;
    break_locked(why, sinks);
    if (also) sinks.push_back(std::move(also));
    const std::exception_ptr error = broken ? broken : broken_pool(why);
    hold.unlock();
    finish_all(sinks, error);
    hold.lock();
  }

  // --- the result handler --------------------------------------------------------------

  bool handler_done_locked() const {
    return phase != Phase::running && workers.empty() && starting == 0 &&
           (phase != Phase::closed || pending.empty());
  }

  void handle() {
    handler_ident = threading::get_ident();
    std::vector<pollfd> fds;
    std::vector<Worker*> polled;
    for (;;) {
      {
        std::scoped_lock hold(lock);
        if (handler_done_locked()) return;
        fds.assign(1, pollfd{wake_fd, POLLIN, 0});
        polled.clear();
        for (Worker& w : workers) {
          fds.push_back({w.connection.fileno(), POLLIN, 0});
          fds.push_back({w.sentinel, POLLIN, 0});
          polled.push_back(&w);
        }
      }
      if (::poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR)
        throw OSError(std::string("poll: ") + std::strerror(errno));
      if (fds[0].revents) {
        std::uint64_t count;
        [[maybe_unused]] auto n = ::read(wake_fd, &count, sizeof count);
      }
      for (std::size_t i = 0; i < polled.size(); ++i) {
        const pollfd& message = fds[1 + 2 * i];
        const pollfd& ended = fds[2 + 2 * i];
        if (message.revents && !ended.revents) read_message(*polled[i]);
        if (ended.revents) on_worker_exit(*polled[i]);
      }
    }
  }

  // One message: poll is level-triggered, so another one waiting is seen on the next round
  // (one system call fewer per call than reading until the connection is empty).
  // False at the end of the stream.
  bool read_message(Worker& w) {
    std::string bytes;
    try {
      bytes = w.connection.recv_bytes();
    } catch (const EOFError&) {
      return false;  // it has ended: its sentinel says how
    } catch (const OSError&) {
      return false;
    }
    on_message(w, pickle::loads<FromWorker>(bytes));
    return true;
  }

  void on_message(Worker& w, FromWorker message) {
    std::unique_lock hold(lock);
    if (message.kind == FromWorker::initializer_failed) {
      if (phase == Phase::broken || phase == Phase::terminated) return;  // reported once, by the first
      const auto error = pickle::loads_exception(message.bytes);
      report("Exception in initializer:\n" + pyconc::detail::describe_exception(error) + "\n");
      break_and_fail(hold,
                     "A process in the process pool failed to initialize: " + pyconc::detail::describe_exception(error));
      return;
    }
    if (!w.running || w.running->id != message.id) return;  // failed already (terminated)
    std::shared_ptr<CallSink> sink = std::move(w.running->sink);
    w.running.reset();
    std::vector<Send> sends;
    dispatch_locked(w, sends);  // its next call first: the worker works while we finish
    send_unlocked(hold, sends);
    hold.unlock();
    Outcome outcome;
    if (message.kind == FromWorker::result) {
      outcome.result = std::move(message.bytes);
    } else {
      outcome.error = pickle::loads_exception(message.bytes);
    }
    bool taken = true;
    try {
      taken = sink->finish(std::move(outcome));
    } catch (...) {
      report("Exception in a pool's result handler:\n" +
             pyconc::detail::describe_exception(std::current_exception()) + "\n");
    }
    if (!taken) {  // only a ProcessPoolExecutor's sink declines a result: its pool breaks
      hold.lock();
      break_and_fail(hold, "A result from a worker could not be unpickled", std::move(sink));
    }
  }

  void on_worker_exit(Worker& w) {
    while (w.connection.poll() && read_message(w)) {  // what it said before it ended
    }
    w.process.join();
    const auto exitcode = w.process.exitcode();
    std::unique_lock hold(lock);
    std::shared_ptr<CallSink> lost;  // the call it took with it
    std::uint64_t lost_id = 0;
    if (w.running) {
      lost = std::move(w.running->sink);
      lost_id = w.running->id;
      w.running.reset();
    }
    const bool expected = w.stopping && !lost && exitcode == 0;
    std::vector<std::shared_ptr<CallSink>> sinks;
    std::exception_ptr error;
    if (!expected && (phase == Phase::running || phase == Phase::closed)) {
      if (options.on_death == WorkerPoolOptions::OnDeath::break_pool) {
        break_locked("A process in the process pool was terminated abruptly while the future was running or pending.",
                     sinks);
        error = broken;
      } else if (lost) {
        error = worker_lost(exitcode, lost_id);
      }
    }
    if (lost) sinks.push_back(std::move(lost));
    try {
      w.process.close();
    } catch (const Error&) {
    }
    workers.remove_if([&](const Worker& each) { return &each == &w; });
    hold.unlock();
    finish_all(sinks, error);
    hold.lock();
    start_workers(hold);
    std::vector<Send> sends;
    dispatch_all_locked(sends);
    send_unlocked(hold, sends);
  }
};

// --- the registry of live pools, for process exit and fork ---------------------------

namespace {

struct LiveWorkerPools {
  threading::Lock lock;
  std::vector<std::weak_ptr<WorkerPool::Core>> pools;
};

LiveWorkerPools& live_worker_pools() {
  static auto* live = [] {
    auto* created = new LiveWorkerPools;  // never destroyed: pools may outlive main()
    pyconc::os::detail::fork_protect(created->lock);
    // A forked child has copies of the pools but none of their workers or threads.
    pyconc::os::register_at_fork({}, {}, [created] { created->pools.clear(); });
    return created;
  }();
  return *live;
}
PYCONC_BUILD_AT_LOAD(live_worker_pools());

void terminate_at_exit(WorkerPool::Core& core);

void register_exit_hook_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    try {
      threading::register_atexit([] {
        std::vector<std::shared_ptr<WorkerPool::Core>> pools;
        {
          LiveWorkerPools& live = live_worker_pools();
          std::scoped_lock hold(live.lock);
          for (auto& weak : live.pools)
            if (auto core = weak.lock()) pools.push_back(std::move(core));
        }
        for (auto& core : pools) terminate_at_exit(*core);
      });
    } catch (const RuntimeError&) {
      // Made during shutdown itself: the exit function terminates its daemon workers.
    }
  });
}

}  // namespace

// --- WorkerPool ---------------------------------------------------------------------

WorkerPool::WorkerPool(WorkerPoolOptions options) : core_(std::make_shared<Core>(std::move(options))) {
  register_exit_hook_once();
  {
    LiveWorkerPools& live = live_worker_pools();
    std::scoped_lock hold(live.lock);
    std::erase_if(live.pools, [](const auto& weak) { return weak.expired(); });
    live.pools.push_back(core_);
  }
  {
    // Workers first: a fork made before the handler thread exists copies a one-thread process.
    std::unique_lock hold(core_->lock);
    if (const std::exception_ptr failed = core_->start_workers(hold)) {
      // No pool after all: reap the workers that did start (they were told to stop).
      for (Core::Worker& w : core_->workers) w.process.join();
      std::rethrow_exception(failed);
    }
  }
  std::shared_ptr<Core> core = core_;
  core->handler.emplace(threading::ThreadOptions{core->options.worker_name + "-result-handler", true},
                        [core]() mutable {
                          core->handle();
                          core.reset();  // the thread's handle lives in the core: no cycle
                        });
  core->handler->start();
}

WorkerPool::~WorkerPool() {
  if (!owned_here()) return;  // a fork's copy: the workers are not ours
  terminate(std::make_exception_ptr(ProcessError("the pool was terminated before the task finished")));
  if (core_->is_handler_thread()) return;  // dropped by a callback: the handler ends itself
  join();
}

namespace {
void check_owner(const WorkerPool::Core& core) {
  if (::getpid() != core.owner)
    throw ProcessError("this pool belongs to process " + std::to_string(core.owner) +
                       ": a forked child cannot use its parent's pool");
}

void terminate_at_exit(WorkerPool::Core& core) {
  if (core.options.on_death == WorkerPoolOptions::OnDeath::break_pool) {
    // ProcessPoolExecutor: work already submitted still completes (Python's _python_exit).
    std::unique_lock hold(core.lock);
    if (core.phase == WorkerPool::Phase::running) core.phase = WorkerPool::Phase::closed;
    std::vector<WorkerPool::Core::Send> sends;
    core.dispatch_all_locked(sends);
    core.send_unlocked(hold, sends);
  } else {
    std::vector<std::shared_ptr<CallSink>> sinks;
    std::unique_lock hold(core.lock);
    if (core.phase == WorkerPool::Phase::running || core.phase == WorkerPool::Phase::closed) {
      core.phase = WorkerPool::Phase::terminated;
      core.take_all_calls_locked(sinks);
      core.stop_workers_locked();
    }
    hold.unlock();
    finish_all(sinks, std::make_exception_ptr(ProcessError("the pool was terminated at process exit")));
  }
  core.wake();
  if (!core.is_handler_thread()) core.handler->join();
}
}  // namespace

bool WorkerPool::submit(const TaskCall& call, std::shared_ptr<CallSink> sink) {
  check_owner(*core_);
  ToWorker message{core_->next_id.fetch_add(1), locate_call(call)};
  std::string bytes = pickle::dumps(message);
  std::unique_lock hold(core_->lock);
  if (core_->phase != Phase::running) return false;
  core_->pending.push_back({message.id, std::move(bytes), std::move(sink)});
  std::vector<Core::Send> sends;
  core_->dispatch_all_locked(sends);
  core_->send_unlocked(hold, sends);
  if (core_->options.start_on_demand)
    if (const std::exception_ptr failed = core_->start_workers(hold)) std::rethrow_exception(failed);
  return true;
}

void WorkerPool::close() {
  check_owner(*core_);
  std::unique_lock hold(core_->lock);
  if (core_->phase != Phase::running) return;
  core_->phase = Phase::closed;
  std::vector<Core::Send> sends;
  core_->dispatch_all_locked(sends);
  core_->send_unlocked(hold, sends);
  core_->wake();
}

void WorkerPool::terminate(std::exception_ptr error) {
  check_owner(*core_);
  std::vector<std::shared_ptr<CallSink>> sinks;
  std::unique_lock hold(core_->lock);
  if (core_->phase == Phase::terminated) return;
  if (core_->phase != Phase::broken) core_->phase = Phase::terminated;
  core_->take_all_calls_locked(sinks);
  core_->stop_workers_locked();
  core_->wake();
  hold.unlock();
  finish_all(sinks, error);
}

std::vector<std::shared_ptr<CallSink>> WorkerPool::take_pending() {
  check_owner(*core_);
  std::vector<std::shared_ptr<CallSink>> sinks;
  std::scoped_lock hold(core_->lock);
  for (Core::Pending& p : core_->pending) sinks.push_back(std::move(p.sink));
  core_->pending.clear();
  core_->wake();
  return sinks;
}

void WorkerPool::join() {
  check_owner(*core_);
  if (core_->is_handler_thread())
    throw RuntimeError("cannot join a pool from its own result handler (a callback)");
  core_->handler->join();
}

WorkerPool::Phase WorkerPool::phase() const {
  std::scoped_lock hold(core_->lock);
  return core_->phase;
}

std::exception_ptr WorkerPool::broken_error() const {
  std::scoped_lock hold(core_->lock);
  return core_->broken;
}

std::vector<pid_t> WorkerPool::worker_pids() const {
  std::vector<pid_t> pids;
  std::scoped_lock hold(core_->lock);
  for (const Core::Worker& w : core_->workers)
    if (auto pid = w.process.pid()) pids.push_back(*pid);
  return pids;
}

bool WorkerPool::owned_here() const { return ::getpid() == core_->owner; }

std::size_t WorkerPool::processes() const { return static_cast<std::size_t>(core_->options.processes); }

}  // namespace pyconc::multiprocessing::detail
