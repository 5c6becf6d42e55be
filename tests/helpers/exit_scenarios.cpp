// Process-exit and fork behaviour needs a fresh process: the threading tests run this
// program with a scenario name and check what it prints and how it exits.
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

#include <atomic>
#include <functional>
#include <memory>
#include <vector>

#include "pyconc/futures.hpp"
#include "pyconc/report.hpp"
#include "pyconc/threading.hpp"

using namespace std::chrono_literals;
namespace threading = pyconc::threading;

namespace {

void say(const char* line) {
  std::printf("%s\n", line);
  std::fflush(stdout);
}

// EXIT-01 / EXIT-04: non-daemon threads, one started during shutdown, finish before exit.
// The worker waits for the main thread to end (EXIT-02), so its output always comes after
// main's, and the process must still wait for it.
int non_daemon_joined() {
  threading::Thread t([] {
    threading::main_thread().join();
    say("worker finished");
    threading::Thread late([] { say("late worker finished"); });
    late.start();
  });
  t.start();  // t is destroyed on return; the thread runs on, as in Python
  say("main returns");
  return 0;
}

// EXIT-02: a thread waiting for the main thread is released when main ends.
int main_join_released() {
  static threading::Event waiting;
  threading::Thread t([] {
    waiting.set();
    threading::main_thread().join();
    say("main thread joined");
  });
  t.start();  // t is destroyed on return; the thread runs on, as in Python
  waiting.wait();
  say("main returns");
  return 0;
}

// EXIT-03: daemon threads are abandoned quietly.
int daemon_abandoned() {
  threading::Thread t({.daemon = true}, [] {
    for (;;) std::this_thread::sleep_for(10ms);
  });
  t.start();  // t is destroyed on return; the thread runs on, as in Python
  say("main returns");
  return 0;
}

// EXIT-05: shutdown hooks run before non-daemon threads are joined, newest first, once.
int atexit_hooks() {
  static threading::Event release;
  threading::Thread t([] {
    release.wait();
    say("worker released by hook");
  });
  t.start();  // t is destroyed on return; the thread runs on, as in Python
  // Hooks run newest first: "hook 2", then "hook 1", which releases the worker; the worker
  // can only finish if hooks run before non-daemon threads are joined.
  threading::register_atexit([] {
    say("hook 1");
    release.set();
  });
  threading::register_atexit([] { say("hook 2"); });
  say("main returns");
  return 0;
}

// EXIT-05: registering once shutdown has begun throws RuntimeError.
int atexit_after_shutdown() {
  threading::register_atexit([] {
    try {
      threading::register_atexit([] {});
      say("registered (wrong)");
    } catch (const pyconc::RuntimeError&) {
      say("RuntimeError during shutdown");
    }
  });
  threading::Thread t([] {});
  t.start();
  t.join();
  return 0;
}

// EXIT-06: the main thread's local values are readable from static destructors.
struct ReadsLocalAtExit {
  threading::local<std::string>* value = nullptr;
  ~ReadsLocalAtExit() {
    if (value) std::printf("local at exit: %s\n", value->get().c_str());
  }
};
int locals_at_exit() {
  static threading::local<std::string> value;
  static ReadsLocalAtExit reader;
  value.get() = "main's value";
  reader.value = &value;
  threading::Thread t([] {});
  t.start();
  t.join();
  return 0;
}

// EXIT-07: after fork() from a non-main thread only the forking thread exists.
int fork_from_thread() {
  threading::Event stop;
  threading::Thread bystander([&] { stop.wait(); });
  bystander.start();
  int child_status = -1;
  threading::Thread forker([&] {
    const pid_t pid = fork();
    if (pid == 0) {
      const bool ok = !bystander.is_alive() && threading::active_count() == 1 &&
                      threading::main_thread().ident() == threading::current_thread().ident();
      std::printf("child: bystander alive=%d active_count=%zu main_is_me=%d\n",
                  bystander.is_alive(), threading::active_count(),
                  threading::main_thread().ident() == threading::current_thread().ident());
      std::fflush(stdout);
      // The child can still use threads.
      threading::Thread again([] { say("child: new thread ran"); });
      again.start();
      again.join();
      _exit(ok ? 0 : 3);
    }
    waitpid(pid, &child_status, 0);
  });
  forker.start();
  forker.join();
  stop.set();
  bystander.join();
  std::printf("parent: child exit %d\n", WIFEXITED(child_status) ? WEXITSTATUS(child_status) : -1);
  return 0;
}

// SHD-07: work submitted to a pool still completes at exit, also after shutdown(wait=false).
// The running task waits for the main thread to end, so both tasks finish during exit.
int pool_work_finishes_at_exit() {
  static pyconc::futures::ThreadPoolExecutor pool(1);
  static threading::Event running;
  pool.submit([] {
    running.set();
    threading::main_thread().join();
    say("task done");
  });
  pool.submit([] { say("queued task done"); });
  running.wait();
  pool.shutdown(false);
  say("main returns");
  return 0;
}

// SHD-02: submit once interpreter shutdown has begun: RuntimeError.
int submit_after_interpreter_shutdown() {
  static pyconc::futures::ThreadPoolExecutor* pool = nullptr;
  // Registered before any thread starts, so it runs after threading's shutdown, as
  // Python's atexit handlers run after threading._shutdown.
  std::atexit([] {
    try {
      pool->submit([] {});
      say("submitted (wrong)");
    } catch (const pyconc::RuntimeError& e) {
      say(e.what());
    }
  });
  pool = new pyconc::futures::ThreadPoolExecutor(1);  // reachable from a static: no leak
  pool->submit([] {}).result();
  return 0;
}

// Forks repeatedly while other threads hold the library's internal locks (creating pools,
// reporting exceptions from threads and from unread futures). Every child must be able to
// start threads and pools, report an exception and exit 0; a child that deadlocks is
// killed by its alarm and counted as a failure.
int fork_while_busy() {
  pyconc::set_report_sink([](std::string_view) {});  // the reports themselves are noise here
  std::atomic<bool> stop{false};
  std::vector<std::unique_ptr<threading::Thread>> busy;
  auto keep_busy = [&](std::function<void()> step) {
    busy.push_back(std::make_unique<threading::Thread>([&stop, step] {
      while (!stop.load()) step();
    }));
    busy.back()->start();
  };
  keep_busy([] {
    pyconc::futures::ThreadPoolExecutor pool(2);
    pool.submit([] { return 1; }).result();
  });
  keep_busy([] {
    threading::Thread t([] { throw pyconc::ValueError("in a thread"); });
    t.start();
    t.join();
  });
  keep_busy([] {
    pyconc::futures::Future<int> f;
    f.set_running_or_notify_cancel();
    f.set_exception(std::make_exception_ptr(pyconc::ValueError("never read")));
  });
  int failures = 0;
  for (int i = 0; i < 40; ++i) {
    const pid_t pid = fork();
    if (pid == 0) {
      alarm(20);
      threading::Thread t([] { throw pyconc::ValueError("in the child"); });
      t.start();
      t.join();
      pyconc::futures::ThreadPoolExecutor pool(2);
      const int r = pool.submit([] { return 41; }).result() + 1;
      pool.shutdown();
      std::_Exit(r == 42 ? 0 : 1);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) continue;
    ++failures;
    if (WIFSIGNALED(status))
      std::printf("child %d killed by signal %d\n", i, WTERMSIG(status));
    else
      std::printf("child %d exited %d\n", i, WEXITSTATUS(status));
  }
  stop = true;
  for (auto& t : busy) t->join();
  std::printf("fork_while_busy: %d of 40 children failed\n", failures);
  return failures == 0 ? 0 : 1;
}

// Exit while daemon threads, a pool and a non-daemon thread are all busy (run in a loop by
// scripts/stress-exit to hunt rare aborts at exit).
int busy_exit() {
  for (int i = 0; i < 2; ++i) {
    threading::Thread d({.daemon = true}, [] {
      for (;;) {
        threading::Thread t({.daemon = true}, [] {});
        t.start();
        t.join();
      }
    });
    d.start();
  }
  static pyconc::futures::ThreadPoolExecutor pool(2);
  for (int i = 0; i < 8; ++i) pool.submit([] { std::this_thread::sleep_for(1ms); });
  threading::Thread worker([] {
    for (int i = 0; i < 20; ++i) {
      threading::Thread t([] {});
      t.start();
      t.join();
    }
  });
  worker.start();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string scenario = argc > 1 ? argv[1] : "";
  if (scenario == "non_daemon_joined") return non_daemon_joined();
  if (scenario == "main_join_released") return main_join_released();
  if (scenario == "daemon_abandoned") return daemon_abandoned();
  if (scenario == "atexit_hooks") return atexit_hooks();
  if (scenario == "atexit_after_shutdown") return atexit_after_shutdown();
  if (scenario == "locals_at_exit") return locals_at_exit();
  if (scenario == "fork_from_thread") return fork_from_thread();
  if (scenario == "pool_work_finishes_at_exit") return pool_work_finishes_at_exit();
  if (scenario == "submit_after_interpreter_shutdown") return submit_after_interpreter_shutdown();
  if (scenario == "fork_while_busy") return fork_while_busy();
  if (scenario == "busy_exit") return busy_exit();
  std::fprintf(stderr, "unknown scenario '%s'\n", scenario.c_str());
  return 2;
}
