// multiprocessing behaviour that needs a process of its own (what it prints, how it exits):
// the multiprocessing tests run this program with "scenario" or "scenario:method".
#include <dlfcn.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>
#include <thread>

#include "pyconc/multiprocessing.hpp"
#include "pyconc/threading.hpp"

namespace mp = pyconc::multiprocessing;
using namespace std::chrono_literals;

// The pools_at_exit scenario's pools, never destroyed; held by globals of external linkage
// so that LeakSanitizer sees them reachable (and the stores cannot be optimised away).
mp::Pool* g_pool_left_running = nullptr;
pyconc::futures::ProcessPoolExecutor* g_executor_left_running = nullptr;
// The manager_at_exit scenario's manager and proxy, likewise.
mp::SyncManager* g_manager_left_running = nullptr;
mp::managers::ValueProxy<int>* g_proxy_left_alive = nullptr;

namespace {

void say(const std::string& line) {
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

void nothing() {}
void sleep_forever() {
  for (;;) ::pause();
}
void finish_later() {
  std::this_thread::sleep_for(300ms);
  say("non-daemon child finished");
}
void fail() { throw std::runtime_error("실패!"); }

// The spawn/forkserver rule: without freeze_support(), start() refuses and starts nothing.
int no_freeze_support(const std::string& method) {
  auto p = mp::get_context(method).Process(nothing);
  try {
    p.start();
    say("started (wrong)");
    return 1;
  } catch (const pyconc::RuntimeError& e) {
    say(std::string("RuntimeError: ") + e.what());
  }
  say("children: " + std::to_string(mp::active_children().size()));
  return 0;
}

// CTX-09: fork from a multi-threaded process warns, once.
int fork_warning(bool with_thread) {
  pyconc::threading::Event stop;
  pyconc::threading::Thread t([&stop] { stop.wait(); });
  if (with_thread) t.start();
  for (int i = 0; i < 2; ++i) {
    auto p = mp::get_context("fork").Process(nothing);
    p.start();
    p.join();
  }
  stop.set();
  if (with_thread) t.join();
  say("done");
  return 0;
}

// PRC-13: at exit, daemon children are terminated and every child is joined.
int children_at_exit(const std::string& method) {
  auto daemon = mp::get_context(method).Process(mp::ProcessOptions{.daemon = true}, sleep_forever);
  auto worker = mp::get_context(method).Process(finish_later);
  daemon.start();
  worker.start();
  say("daemon pid " + std::to_string(*daemon.pid()));
  say("main returns");
  return 0;
}

// PRC-06: an uncaught exception is reported on the child's stderr; exit code 1.
int exception_report(const std::string& method) {
  auto p = mp::get_context(method).Process(fail);
  p.start();
  p.join();
  say("exitcode " + std::to_string(*p.exitcode()));
  return 0;
}

// Exits 0 when `name` is loaded in this process, 3 when it is not.
void exit_whether_loaded(std::string name) {
  if (!::dlopen(name.c_str(), RTLD_NOW | RTLD_NOLOAD)) std::_Exit(3);
}

std::string loaded_in_child(const std::string& library) {
  auto p = mp::get_context("forkserver").Process(exit_whether_loaded, library);
  p.start();
  p.join();
  return *p.exitcode() == 0 ? "loaded" : "not loaded";
}

// CTX-08: the libraries named before the forkserver starts are loaded in its children;
// one that does not exist is skipped; a second call affects no server already running.
int forkserver_preload() {
  const std::string zlib = "libz.so.1";
  say(std::string("parent: ") + (::dlopen(zlib.c_str(), RTLD_NOW | RTLD_NOLOAD) ? "loaded" : "not loaded"));
  mp::set_forkserver_preload({"libpyconc-no-such-library.so", zlib});
  say("first child: " + loaded_in_child(zlib));
  mp::set_forkserver_preload({"libbz2.so.1.0"});  // the server is running: no effect
  say("late preload: " + loaded_in_child("libbz2.so.1.0"));
  return 0;
}

int square(int x) { return x * x; }

// A pool whose parent is killed: it prints its workers' pids, then dies by SIGKILL (no exit
// handler runs). The workers must notice and exit rather than live on as orphans.
int pool_parent_killed(const std::string& method) {
  mp::Pool pool(2, {.context = mp::get_context(method)});
  pool.map(square, std::vector{1, 2, 3, 4});
  std::string pids = "workers:";
  for (pid_t pid : pool.worker_pids()) pids += " " + std::to_string(pid);
  say(pids);
  ::kill(::getpid(), SIGKILL);
  return 1;
}

// A Pool and a ProcessPoolExecutor never destroyed, one with a call still pending: the exit
// hooks end both (the executor's pending call finishes first, as in Python) and the
// program exits 0. The hooks run after the main thread's thread_locals are gone.
int pools_at_exit(const std::string& method) {
  auto* pool = g_pool_left_running = new mp::Pool(2, {.context = mp::get_context(method)});
  auto* executor = g_executor_left_running =
      new pyconc::futures::ProcessPoolExecutor(2, {.mp_context = mp::get_context(method)});
  say("results: " + std::to_string(pool->apply(square, 3)) + " " + std::to_string(executor->submit(square, 4).result()));
  std::string pids = "workers:";
  for (pid_t pid : pool->worker_pids()) pids += " " + std::to_string(pid);
  for (pid_t pid : executor->worker_pids()) pids += " " + std::to_string(pid);
  auto pending = executor->submit(square, 5);
  say(pids);
  return 0;
}

// Pools in a program that never called freeze_support(): Pool() and the executor's first
// submit() raise the RuntimeError that names the fix (Python raises from them too).
int pools_without_freeze_support() {
  try {
    mp::Pool pool(2);
    say("Pool started (wrong)");
  } catch (const pyconc::RuntimeError& e) {
    say(std::string("Pool: RuntimeError: ") + e.what());
  }
  pyconc::futures::ProcessPoolExecutor executor(2);
  try {
    executor.submit(square, 3).result();
    say("submit ran (wrong)");
  } catch (const pyconc::RuntimeError& e) {
    say(std::string("submit: RuntimeError: ") + e.what());
  }
  try {
    executor.submit(square, 3);
  } catch (const pyconc::futures::BrokenProcessPool&) {
    say("then: BrokenProcessPool");
  }
  say("children: " + std::to_string(mp::active_children().size()));
  return 0;
}

void add_one(mp::managers::ValueProxy<int> count, mp::managers::AcquirerProxy lock) {
  std::scoped_lock hold(lock);
  count.set(count.get() + 1);
}

// A manager and a proxy never destroyed, after children used the proxy: at exit the
// reference goes back, the server stops, and the program exits 0.
int manager_at_exit(const std::string& method) {
  auto* manager = g_manager_left_running = new mp::SyncManager({.context = mp::get_context(method)});
  manager->start();
  auto* count = g_proxy_left_alive = new mp::managers::ValueProxy<int>(manager->Value<int>(0));
  auto lock = manager->Lock();
  std::vector<mp::Process> children;
  for (int i = 0; i < 3; ++i) children.push_back(mp::get_context(method).Process(add_one, *count, lock));
  for (auto& child : children) child.start();
  for (auto& child : children) child.join();
  say("count: " + std::to_string(count->get()));
  say("server: " + std::to_string(*manager->process()->pid()));
  return 0;
}

// A manager whose program is killed: its server process notices and exits.
int manager_parent_killed(const std::string& method) {
  auto manager = mp::Manager({.context = mp::get_context(method)});
  auto d = manager.dict<std::string, int>();
  d["x"] = 1;
  say("server: " + std::to_string(*manager.process()->pid()));
  ::kill(::getpid(), SIGKILL);
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string arg = argc > 1 ? argv[1] : "";
  const std::string scenario = arg.substr(0, arg.find(':'));
  const std::string method = arg.find(':') == std::string::npos ? "fork" : arg.substr(arg.find(':') + 1);
  if (scenario != "no_freeze_support" && scenario != "pools_without_freeze_support") mp::freeze_support();
  if (scenario == "no_freeze_support") return no_freeze_support(method);
  if (scenario == "fork_warning") return fork_warning(true);
  if (scenario == "fork_single_threaded") return fork_warning(false);
  if (scenario == "children_at_exit") return children_at_exit(method);
  if (scenario == "exception_report") return exception_report(method);
  if (scenario == "forkserver_preload") return forkserver_preload();
  if (scenario == "pool_parent_killed") return pool_parent_killed(method);
  if (scenario == "pools_at_exit") return pools_at_exit(method);
  if (scenario == "pools_without_freeze_support") return pools_without_freeze_support();
  if (scenario == "manager_at_exit") return manager_at_exit(method);
  if (scenario == "manager_parent_killed") return manager_parent_killed(method);
  std::fprintf(stderr, "unknown scenario %s\n", arg.c_str());
  return 2;
}
