// Internal: the shared state behind Thread handles, and the registry of live threads.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "pyconc/threading/event.hpp"
#include "pyconc/threading/lock.hpp"
#include "pyconc/threading/thread.hpp"

namespace pyconc::threading::detail {

struct ThreadState : std::enable_shared_from_this<ThreadState> {
  enum Phase : std::uint32_t { initial, started, stopped };

  ~ThreadState();

  std::string get_name();
  void set_name(std::string n);
  // The Thread object to hand out for this thread: the user's, or an internal handle once
  // the user's has been destroyed.
  Thread& handle();
  void join_os_thread();
  static void bootstrap(std::shared_ptr<ThreadState> self);
  // A new Thread handle sharing `state` (Thread's adopting constructor is private).
  static Thread* new_handle(std::shared_ptr<ThreadState> state);

  Lock name_lock;
  std::string name;
  std::atomic<bool> daemon{false};
  pyconc::detail::UniqueFunction<void()> target;
  bool has_target = false;
  std::atomic<Thread*> self{nullptr};
  // The handle given out once `self` is gone (or for a foreign thread); it refers to this
  // state without owning it. Guarded by the registry lock.
  std::unique_ptr<Thread> orphan_handle;
  std::atomic<bool> start_called{false};
  std::atomic<std::uint32_t> phase{initial};
  Event running;
  Event finished;
  std::atomic<std::uint64_t> ident{0};
  std::atomic<std::uint64_t> native_id{0};
  Lock os_lock;                 // serialises joiners of os_thread
  std::thread os_thread;
};

// Marks the calling thread as `state` for current_thread().
void set_current(ThreadState* state);
ThreadState* current_state();

}  // namespace pyconc::threading::detail
