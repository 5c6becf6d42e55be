// Internal: the shared state behind Thread handles, and the registry of live threads.
#pragma once

#include <pthread.h>

#include <atomic>
#include <memory>
#include <string>
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
  // A new handle to this thread, keeping it alive (Python's reference to the object).
  Thread handle();
  // Starts the OS thread running bootstrap(); false if the OS refused.
  bool start_os_thread(std::size_t stack_size);
  void join_os_thread();
  // The thread is gone (in a forked child): forget its OS handle without joining.
  void forget_os_thread();
  static void bootstrap(std::shared_ptr<ThreadState> self);

  Lock name_lock;
  std::string name;
  std::atomic<bool> daemon{false};
  pyconc::detail::UniqueFunction<void()> target;
  bool has_target = false;
  // The user's object, for a subclass's run(); cleared when that object is destroyed.
  std::atomic<Thread*> self{nullptr};
  std::atomic<bool> start_called{false};
  std::atomic<std::uint32_t> phase{initial};
  Event running;
  Event finished;
  std::atomic<std::uint64_t> ident{0};
  std::atomic<std::uint64_t> native_id{0};
  Lock os_lock;                 // guards the two fields below; serialises joiners
  pthread_t os_thread{};
  bool os_joinable = false;     // started and neither joined nor detached yet
};

// Marks the calling thread as `state` for current_thread().
void set_current(ThreadState* state);
ThreadState* current_state();

}  // namespace pyconc::threading::detail
