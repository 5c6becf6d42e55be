// asyncio.run's ending: cancel what is left, wait for it, report, close.
#include <sys/syscall.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <cstring>

#include "loop_core.hpp"
#include "pyconc/asyncio/runners.hpp"

namespace pyconc::asyncio::detail {

namespace {

Coroutine<void> wait_all(std::vector<TaskBase> tasks) {
  for (auto& task : tasks) {
    if (task.done()) continue;
    Future<void> done(get_running_loop());
    task.add_done_callback([done](FutureBase) {
      if (!done.done()) done.set_result();
    });
    co_await done;
  }
}

}  // namespace

InterruptGuard::InterruptGuard(EventLoop& loop, TaskBase main) : loop_(loop), main_(std::move(main)) {
  if (::getpid() != static_cast<pid_t>(::syscall(SYS_gettid))) return;  // not the main thread
  struct sigaction current {};
  if (::sigaction(SIGINT, nullptr, &current) != 0 || current.sa_handler != SIG_DFL) return;
  loop_.add_signal_handler(SIGINT, [this] {
    // Python's Runner._on_sigint: the first Ctrl-C cancels the main task, a second one
    // interrupts at once.
    if (++interrupts_ == 1 && !main_.done()) {
      main_.cancel();
      return;
    }
    throw KeyboardInterrupt();
  });
  installed_ = true;
}

InterruptGuard::~InterruptGuard() {
  if (installed_ && !loop_.is_closed()) loop_.remove_signal_handler(SIGINT);
}

void InterruptGuard::raise_cancelled(std::exception_ptr cancelled) const {
  if (interrupts_ > 0 && main_.uncancel() == 0) throw KeyboardInterrupt();
  std::rethrow_exception(cancelled);
}

void check_not_running(const char* what) {
  if (running_loop()) throw RuntimeError(what);
}

bool debug_from_environment() {
  const char* value = std::getenv("PYCONC_ASYNCIO_DEBUG");
  return value && *value && std::strcmp(value, "0") != 0;
}

void finish_run(EventLoop& loop) {
  if (loop.is_closed()) return;
  auto tasks = loop.core().pending_tasks();
  for (auto& task : tasks) task.cancel();
  if (!tasks.empty()) {
    try {
      loop.run_until_complete(wait_all(tasks));
    } catch (...) {
      // The waiting itself cannot fail; a stop() from a task ends it early, as in Python.
    }
    for (auto& task : tasks) {
      if (!task.done() || task.cancelled()) continue;
      if (auto error = task.exception())
        loop.call_exception_handler({"unhandled exception during asyncio.run() shutdown", error, task.repr(), false});
    }
  }
  try {
    loop.run_until_complete(loop.shutdown_default_executor());  // LOOP-17: its jobs finish
  } catch (...) {
    // A stop() from a callback ends the wait early; close() below still shuts it down.
  }
  loop.close();
}

}  // namespace pyconc::asyncio::detail
