#include "registry.hpp"

#include <cstdlib>
#include <mutex>
#include <new>

#include "pyconc/os.hpp"
#include "pyconc/threading/excepthook.hpp"
#include "detail/built_at_load.hpp"

namespace pyconc::threading::detail {

Registry& Registry::instance() {
  static Registry* registry = new Registry;  // leaked on purpose: see the header
  return *registry;
}

namespace {
PYCONC_BUILD_AT_LOAD(Registry::instance());
}  // namespace

Registry::Registry() {
  pyconc::os::register_at_fork(&Registry::before_fork, &Registry::after_fork_in_parent,
                               &Registry::after_fork_in_child);
}

void Registry::add(std::shared_ptr<ThreadState> state) {
  std::scoped_lock hold(lock_);
  active_.push_back(std::move(state));
}

void Registry::remove(ThreadState* state) {
  std::shared_ptr<ThreadState> keep;  // released outside the lock
  std::scoped_lock hold(lock_);
  for (auto it = active_.begin(); it != active_.end(); ++it) {
    if (it->get() == state) {
      keep = std::move(*it);
      active_.erase(it);
      break;
    }
  }
}

std::vector<Thread> Registry::live_threads() {
  std::vector<std::shared_ptr<ThreadState>> copy;
  {
    std::scoped_lock hold(lock_);
    copy = active_;
  }
  std::vector<Thread> threads;
  threads.reserve(copy.size());
  for (auto& state : copy) threads.push_back(state->handle());
  return threads;
}

std::size_t Registry::size() {
  std::scoped_lock hold(lock_);
  return active_.size();
}

std::shared_ptr<ThreadState> Registry::main() {
  std::scoped_lock hold(lock_);
  return main_;
}

void Registry::set_main(std::shared_ptr<ThreadState> state) {
  std::scoped_lock hold(lock_);
  main_ = std::move(state);
}

void Registry::add_atexit(std::function<void()> fn) {
  std::scoped_lock hold(lock_);
  if (shutting_down_) throw RuntimeError("can't register atexit after shutdown");
  atexit_hooks_.push_back(std::move(fn));
}

void Registry::add_after_join(std::function<void()> fn) {
  {
    std::scoped_lock hold(lock_);
    after_join_hooks_.push_back(std::move(fn));
  }
  arm_shutdown();
}

void Registry::arm_shutdown() {
  static std::once_flag once;
  std::call_once(once, [] { std::atexit(&Registry::shutdown); });
}

// Python's threading._shutdown: the main thread counts as finished, the shutdown hooks run
// (newest first), then every non-daemon thread is waited for, including ones started
// while we wait.
void Registry::shutdown() {
  Registry& r = instance();
  std::vector<std::function<void()>> hooks;
  std::shared_ptr<ThreadState> main;
  {
    std::scoped_lock hold(r.lock_);
    r.shutting_down_ = true;
    hooks.swap(r.atexit_hooks_);
    main = r.main_;
  }
  if (main && main.get() == current_state()) {
    main->phase.store(ThreadState::stopped);
    main->finished.set();
  }
  for (auto it = hooks.rbegin(); it != hooks.rend(); ++it) {
    try {
      (*it)();
    } catch (...) {
      excepthook({pyconc::detail::current_exception_type_name(), std::current_exception(), std::nullopt});
    }
  }
  for (;;) {
    std::vector<std::shared_ptr<ThreadState>> waiting;
    {
      std::scoped_lock hold(r.lock_);
      for (auto& s : r.active_)
        if (!s->daemon.load() && s.get() != current_state() && s != main) waiting.push_back(s);
    }
    if (waiting.empty()) break;
    for (auto& s : waiting) {
      s->finished.wait();
      s->join_os_thread();
    }
  }
  std::vector<std::function<void()>> after_join;
  {
    std::scoped_lock hold(r.lock_);
    after_join.swap(r.after_join_hooks_);
  }
  for (auto it = after_join.rbegin(); it != after_join.rend(); ++it) {
    try {
      (*it)();
    } catch (...) {
      excepthook({pyconc::detail::current_exception_type_name(), std::current_exception(), std::nullopt});
    }
  }
}

void Registry::before_fork() { instance().lock_.lock(); }

void Registry::after_fork_in_parent() { instance().lock_.unlock(); }

// Only the forking thread survives in the child: every other thread is stopped, and the
// forking thread becomes the main thread (Python's threading._after_fork).
void Registry::after_fork_in_child() {
  Registry& r = instance();
  new (&r.lock_) Lock();  // held by the forking thread (before_fork): made anew, not destroyed
  ThreadState* me = current_state();
  std::shared_ptr<ThreadState> survivor;
  for (auto& s : r.active_) {
    if (s.get() == me) {
      survivor = s;
      continue;
    }
    s->phase.store(ThreadState::stopped);
    s->finished.set();
    s->forget_os_thread();  // it does not exist here
  }
  r.active_.clear();
  if (survivor) {
    r.active_.push_back(survivor);
    r.main_ = survivor;
  }
}

}  // namespace pyconc::threading::detail
