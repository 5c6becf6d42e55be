#include "pyconc/threading/thread.hpp"

#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <mutex>

#include "pyconc/threading/excepthook.hpp"
#include "registry.hpp"
#include "thread_locals.hpp"
#include "thread_state.hpp"

namespace pyconc::threading {

namespace detail {

namespace {
thread_local ThreadState* tls_current = nullptr;
std::atomic<std::uint64_t> g_thread_counter{0};
std::atomic<std::uint64_t> g_dummy_counter{0};

std::uint64_t os_ident() { return static_cast<std::uint64_t>(pthread_self()); }
std::uint64_t os_native_id() { return static_cast<std::uint64_t>(syscall(SYS_gettid)); }
bool is_process_main_thread() { return os_native_id() == static_cast<std::uint64_t>(getpid()); }

// Unregisters a foreign ("dummy") thread when it ends.
struct DummyGuard {
  std::shared_ptr<ThreadState> state;
  ~DummyGuard() {
    if (!state) return;
    state->phase.store(ThreadState::stopped);
    state->finished.set();
    Registry::instance().remove(state.get());
    tls_current = nullptr;
  }
};
thread_local DummyGuard tls_dummy_guard;

// Registers the calling thread, which pyconc did not start: the process's main thread
// becomes "MainThread", any other a daemon "Dummy-N" (as Python names them).
ThreadState* adopt_foreign_thread() {
  auto state = std::make_shared<ThreadState>();
  const bool is_main = is_process_main_thread() && !Registry::instance().main();
  state->name = is_main ? "MainThread" : "Dummy-" + std::to_string(++g_dummy_counter);
  state->daemon = !is_main;
  state->start_called = true;
  state->ident = os_ident();
  state->native_id = os_native_id();
  state->phase = ThreadState::started;
  state->running.set();
  if (is_main) {
    state->self = ThreadState::new_handle(state);  // lives for the whole process
    Registry::instance().set_main(state);
  } else {
    state->handle();  // a handle that dies with the dummy's state
    tls_dummy_guard.state = state;
  }
  Registry::instance().add(state);
  tls_current = state.get();
  return state.get();
}

// Registers the main thread during static initialisation, so main_thread() works from
// any thread, before the main thread ever asks for itself.
const bool g_main_registered = [] {
  if (is_process_main_thread()) current_thread();
  return true;
}();
}  // namespace

void set_current(ThreadState* state) { tls_current = state; }
ThreadState* current_state() { return tls_current; }

ThreadState::~ThreadState() {
  if (os_thread.joinable()) os_thread.detach();
}

std::string ThreadState::get_name() {
  std::scoped_lock hold(name_lock);
  return name;
}

void ThreadState::set_name(std::string n) {
  std::scoped_lock hold(name_lock);
  name = std::move(n);
}

Thread& ThreadState::handle() {
  if (Thread* t = self.load()) return *t;
  std::scoped_lock hold(Registry::instance().lock());
  // The handle does not own this state (it is owned by it), so there is no cycle to break.
  if (!orphan_handle) orphan_handle.reset(new_handle(std::shared_ptr<ThreadState>(std::shared_ptr<ThreadState>(), this)));
  return *orphan_handle;
}

Thread* ThreadState::new_handle(std::shared_ptr<ThreadState> state) {
  return new Thread(Thread::AdoptTag{}, std::move(state));
}

void ThreadState::join_os_thread() {
  std::scoped_lock hold(os_lock);
  if (os_thread.joinable() && os_thread.get_id() != std::this_thread::get_id()) os_thread.join();
}

void ThreadState::bootstrap(std::shared_ptr<ThreadState> state) {
  tls_current = state.get();
  state->ident = os_ident();
  state->native_id = os_native_id();
  state->phase = started;
  state->running.set();
  try {
    if (state->has_target) {
      state->target();
    } else if (Thread* t = state->self.load()) {
      t->run();
    }
  } catch (const SystemExit&) {
    // Python ignores SystemExit in a thread silently.
  } catch (...) {
    excepthook({pyconc::detail::current_exception_type_name(), std::current_exception(),
                &state->handle()});
  }
  state->target.reset();  // drop the target and its arguments now, as Python does
  run_thread_local_cleanup();
  Registry::instance().remove(state.get());
  state->phase = stopped;
  state->finished.set();
  tls_current = nullptr;
}

}  // namespace detail

using detail::Registry;
using detail::ThreadState;

Thread::Thread(ThreadOptions options) : state_(std::make_shared<ThreadState>()) {
  state_->name = options.name ? *options.name
                              : "Thread-" + std::to_string(++detail::g_thread_counter);
  state_->daemon = options.daemon ? *options.daemon : current_thread().daemon();
  state_->self = this;
}

Thread::Thread(TargetTag, ThreadOptions options, std::string target_name,
               pyconc::detail::UniqueFunction<void()> target)
    : Thread(ThreadOptions{options.name, options.daemon}) {
  if (!options.name && !target_name.empty()) state_->name += " (" + target_name + ")";
  state_->target = std::move(target);
  state_->has_target = true;
}

Thread::Thread(AdoptTag, std::shared_ptr<ThreadState> state) : state_(std::move(state)) {}

Thread::~Thread() {
  Thread* me = this;
  state_->self.compare_exchange_strong(me, nullptr);
}

void Thread::start() {
  if (state_->start_called.exchange(true)) throw RuntimeError("threads can only be started once");
  auto& registry = Registry::instance();
  registry.arm_shutdown();
  registry.add(state_);
  try {
    std::scoped_lock hold(state_->os_lock);
    state_->os_thread = std::thread(&ThreadState::bootstrap, state_);
  } catch (const std::system_error&) {
    registry.remove(state_.get());
    throw RuntimeError("can't start new thread");
  }
  state_->running.wait();
}

void Thread::run() {
  if (state_->target) state_->target();
}

void Thread::join(Timeout timeout) {
  if (!state_->start_called.load()) throw RuntimeError("cannot join thread before it is started");
  if (state_.get() == detail::current_state()) throw RuntimeError("cannot join current thread");
  if (!state_->finished.wait(timeout)) return;
  state_->join_os_thread();
}

bool Thread::is_alive() const { return state_->phase.load() == ThreadState::started; }

std::string Thread::name() const { return state_->get_name(); }
void Thread::set_name(std::string name) { state_->set_name(std::move(name)); }
bool Thread::daemon() const { return state_->daemon.load(); }

void Thread::set_daemon(bool daemon) {
  if (state_->start_called.load()) throw RuntimeError("cannot set daemon status of active thread");
  state_->daemon = daemon;
}

std::optional<std::uint64_t> Thread::ident() const {
  const auto id = state_->ident.load();
  return id ? std::optional<std::uint64_t>(id) : std::nullopt;
}

std::optional<std::uint64_t> Thread::native_id() const {
  const auto id = state_->native_id.load();
  return id ? std::optional<std::uint64_t>(id) : std::nullopt;
}

std::string Thread::repr() const {
  std::string status = "initial";
  const auto phase = state_->phase.load();
  if (phase == ThreadState::started) status = "started";
  if (phase == ThreadState::stopped) status = "stopped";
  if (daemon()) status += " daemon";
  if (auto id = ident()) status += " " + std::to_string(*id);
  return "<Thread(" + name() + ", " + status + ")>";
}

Thread& current_thread() {
  ThreadState* state = detail::current_state();
  if (!state) state = detail::adopt_foreign_thread();
  return state->handle();
}

Thread& main_thread() {
  auto main = Registry::instance().main();
  if (!main) return current_thread();  // only before static initialisation has run
  return main->handle();
}

std::vector<Thread*> enumerate() {
  current_thread();  // a foreign caller registers itself, as Python's dummies do
  return Registry::instance().live_threads();
}

std::size_t active_count() {
  current_thread();
  return Registry::instance().size();
}

std::uint64_t get_ident() { return detail::os_ident(); }
std::uint64_t get_native_id() { return detail::os_native_id(); }

void register_atexit(std::function<void()> fn) { Registry::instance().add_atexit(std::move(fn)); }

}  // namespace pyconc::threading
