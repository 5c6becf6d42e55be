// Python's os.register_at_fork, on one set of pthread_atfork handlers.
#include <pthread.h>

#include <mutex>
#include <new>
#include <vector>

#include "detail/built_at_load.hpp"
#include "pyconc/os.hpp"

namespace pyconc::os {

namespace {

struct Hooks {
  std::function<void()> before, after_in_parent, after_in_child;
};

// Registration is rare; fork() holds the mutex from "before" to "after", so a hook being
// registered concurrently is either fully in or fully out.
struct ForkHooks {
  std::mutex lock;
  std::vector<Hooks> first;   // foundation hooks: children reset these before the others
  std::vector<Hooks> hooks;   // in registration order

  static void before() {
    ForkHooks& h = instance();
    h.lock.lock();
    for (auto it = h.hooks.rbegin(); it != h.hooks.rend(); ++it)
      if (it->before) it->before();
  }
  static void after_in_parent() {
    ForkHooks& h = instance();
    for (auto& hook : h.hooks)
      if (hook.after_in_parent) hook.after_in_parent();
    h.lock.unlock();
  }
  static void after_in_child() {
    ForkHooks& h = instance();
    // The only thread of the child holds the lock; make it anew rather than unlock a
    // mutex whose owner, for glibc's bookkeeping, is a thread of the parent.
    h.lock.~mutex();
    new (&h.lock) std::mutex();
    for (auto& hook : h.first) hook.after_in_child();
    for (auto& hook : h.hooks)
      if (hook.after_in_child) hook.after_in_child();
  }

  static ForkHooks& instance() {
    static ForkHooks* h = [] {
      auto* created = new ForkHooks;  // never destroyed: a fork may follow main()'s return
      pthread_atfork(&ForkHooks::before, &ForkHooks::after_in_parent, &ForkHooks::after_in_child);
      return created;
    }();
    return *h;
  }
};

PYCONC_BUILD_AT_LOAD(ForkHooks::instance());

}  // namespace

void register_at_fork(std::function<void()> before, std::function<void()> after_in_parent,
                      std::function<void()> after_in_child) {
  ForkHooks& h = ForkHooks::instance();
  std::scoped_lock hold(h.lock);
  h.hooks.push_back({std::move(before), std::move(after_in_parent), std::move(after_in_child)});
}

void detail::register_at_fork_first(std::function<void()> after_in_child) {
  ForkHooks& h = ForkHooks::instance();
  std::scoped_lock hold(h.lock);
  h.first.push_back({{}, {}, std::move(after_in_child)});
}

}  // namespace pyconc::os
