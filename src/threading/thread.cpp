#include "pyconc/threading/thread.hpp"

#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <mutex>
#include <new>

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
std::atomic<std::size_t> g_stack_size{0};

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
    Registry::instance().set_main(state);
  } else {
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
  // The last handle is gone, perhaps inside the thread itself: nobody will join it now.
  if (os_joinable) pthread_detach(os_thread);
}

std::string ThreadState::get_name() {
  std::scoped_lock hold(name_lock);
  return name;
}

void ThreadState::set_name(std::string n) {
  std::scoped_lock hold(name_lock);
  name = std::move(n);
}

Thread ThreadState::handle() { return Thread(Thread::AdoptTag{}, shared_from_this()); }

namespace {
void* run_bootstrap(void* arg) {
  std::unique_ptr<std::shared_ptr<ThreadState>> state(static_cast<std::shared_ptr<ThreadState>*>(arg));
  ThreadState::bootstrap(std::move(*state));
  return nullptr;
}
}  // namespace

bool ThreadState::start_os_thread(std::size_t stack_size) {
  pthread_attr_t attr;
  if (pthread_attr_init(&attr) != 0) return false;
  bool ok = stack_size == 0 || pthread_attr_setstacksize(&attr, stack_size) == 0;
  auto* arg = new std::shared_ptr<ThreadState>(shared_from_this());
  std::scoped_lock hold(os_lock);
  ok = ok && pthread_create(&os_thread, &attr, &run_bootstrap, arg) == 0;
  pthread_attr_destroy(&attr);
  if (!ok) delete arg;
  os_joinable = ok;
  return ok;
}

void ThreadState::join_os_thread() {
  std::scoped_lock hold(os_lock);
  if (!os_joinable || pthread_equal(os_thread, pthread_self())) return;
  pthread_join(os_thread, nullptr);
  os_joinable = false;
}

void ThreadState::forget_os_thread() { os_joinable = false; }

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
                state->handle()});
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

Thread& Thread::operator=(const Thread& other) {
  if (state_ == other.state_) return *this;
  Thread* me = this;
  state_->self.compare_exchange_strong(me, nullptr);  // this object no longer runs that thread
  state_ = other.state_;
  return *this;
}

Thread::~Thread() {
  Thread* me = this;
  state_->self.compare_exchange_strong(me, nullptr);
}

void Thread::start() {
  if (state_->start_called.exchange(true)) throw RuntimeError("threads can only be started once");
  auto& registry = Registry::instance();
  registry.arm_shutdown();
  registry.add(state_);
  if (!state_->start_os_thread(detail::g_stack_size.load())) {
    registry.remove(state_.get());
    state_->start_called = false;  // as in Python: never started, so join() refuses
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
  timeout.check_overflow();
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
  const auto phase = state_->phase.load();
  // Appended piece by piece: GCC 12 warns (-Wrestrict, a false positive) on the chain of +.
  std::string out = "<Thread(";
  out += name();
  out += phase == ThreadState::started ? ", started" : phase == ThreadState::stopped ? ", stopped" : ", initial";
  if (daemon()) out += " daemon";
  if (auto id = ident()) {
    out += ' ';
    out += std::to_string(*id);
  }
  out += ")>";
  return out;
}

Thread current_thread() {
  ThreadState* state = detail::current_state();
  if (!state) state = detail::adopt_foreign_thread();
  return state->handle();
}

Thread main_thread() {
  auto main = Registry::instance().main();
  if (!main) return current_thread();  // only before static initialisation has run
  return main->handle();
}

std::vector<Thread> enumerate() {
  current_thread();  // a foreign caller registers itself, as Python's dummies do
  return Registry::instance().live_threads();
}

std::size_t active_count() {
  current_thread();
  return Registry::instance().size();
}

std::uint64_t get_ident() { return detail::os_ident(); }
std::uint64_t get_native_id() { return detail::os_native_id(); }

std::size_t stack_size() { return detail::g_stack_size.load(); }

std::size_t stack_size(std::size_t size) {
  if (size != 0 && size < 32768) throw ValueError("size not valid: " + std::to_string(size) + " bytes");
  return detail::g_stack_size.exchange(size);
}

void register_atexit(std::function<void()> fn) { Registry::instance().add_atexit(std::move(fn)); }

}  // namespace pyconc::threading
