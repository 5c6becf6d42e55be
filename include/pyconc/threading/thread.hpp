// pyconc::threading::Thread — Python's threading.Thread, and the module functions around it.
//
// Give it a target with arguments, or derive and override run(). start() returns once the
// thread is really running; join(timeout) waits for it (check is_alive() afterwards, as in
// Python). An exception escaping the target goes to threading::excepthook, never to
// std::terminate. Names default to "Thread-N (target)". Non-daemon threads are joined at
// normal process exit, as Python does; daemon threads are abandoned.
//
// A Thread is a handle to shared state: copies refer to the same thread, compare equal,
// and keep what they refer to alive, like Python's references. current_thread(),
// main_thread(), enumerate() and the excepthook hand out such handles, valid for as long as
// the caller keeps them. A plain target thread may outlive the Thread object that started
// it (it keeps running, as in Python). A subclass object, whose run() lives in the object,
// must be joined before it is destroyed; a copy of it is a plain Thread handle (run() on a
// copy calls no override).
//
//   using pyconc::threading::Thread;
//   Thread t({.name = "worker-1"}, worker, std::string("task-1"));
//   t.start();
//   t.join();
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pyconc/detail/type_name.hpp"
#include "pyconc/detail/unique_function.hpp"
#include "pyconc/timeout.hpp"

namespace pyconc::threading {

namespace detail {
struct ThreadState;
}

// Python's keyword arguments name= and daemon=; unset means Python's default.
struct ThreadOptions {
  std::optional<std::string> name;
  std::optional<bool> daemon;
};

class Thread {
 public:
  // For subclasses that override run().
  Thread() : Thread(ThreadOptions{}) {}
  explicit Thread(ThreadOptions options);
  // Thread(target=f, args=(args...)). Arguments are copied or moved in, as std::thread does.
  template <class F, class... Args,
            class = std::enable_if_t<std::is_invocable_v<std::decay_t<F>&, std::decay_t<Args>...>>>
  explicit Thread(F&& target, Args&&... args)
      : Thread(ThreadOptions{}, std::forward<F>(target), std::forward<Args>(args)...) {}
  template <class F, class... Args,
            class = std::enable_if_t<std::is_invocable_v<std::decay_t<F>&, std::decay_t<Args>...>>>
  Thread(ThreadOptions options, F&& target, Args&&... args)
      : Thread(TargetTag{}, std::move(options), pyconc::detail::callable_name(target),
               pyconc::detail::bind_call(std::forward<F>(target), std::forward<Args>(args)...)) {}

  // Another handle to the same thread.
  Thread(const Thread& other) : state_(other.state_) {}
  Thread& operator=(const Thread& other);
  virtual ~Thread();

  // Python's `is`: the same thread.
  friend bool operator==(const Thread& a, const Thread& b) { return a.state_ == b.state_; }

  void start();
  // Python's run(): calls the target. Subclasses override it.
  virtual void run();
  // Waits until the thread ends or the timeout passes (a negative timeout acts as 0).
  void join(Timeout timeout = forever);
  bool is_alive() const;

  std::string name() const;
  void set_name(std::string name);
  bool daemon() const;
  void set_daemon(bool daemon);
  // Python's ident / native_id: empty before start(), kept after the thread ends.
  std::optional<std::uint64_t> ident() const;
  std::optional<std::uint64_t> native_id() const;
  // Python's repr(): "<Thread(name, started daemon 1234)>".
  std::string repr() const;

 private:
  friend struct detail::ThreadState;
  struct AdoptTag {};
  struct TargetTag {};
  Thread(TargetTag, ThreadOptions options, std::string target_name,
         pyconc::detail::UniqueFunction<void()> target);
  Thread(AdoptTag, std::shared_ptr<detail::ThreadState> state);

  std::shared_ptr<detail::ThreadState> state_;
};

// The Thread object of the calling thread; a registered "dummy" for threads not started
// by pyconc (or "MainThread" for the process's main thread).
Thread current_thread();
Thread main_thread();
// Every live thread: main, started pyconc threads, and dummies for foreign threads.
std::vector<Thread> enumerate();
std::size_t active_count();
std::uint64_t get_ident();
std::uint64_t get_native_id();

// Python's threading.stack_size(): the stack size of threads started from now on; 0 (the
// default) is the platform's default (8 MiB on Linux). Setting it returns the previous
// value; a size below 32 KiB, other than 0, throws ValueError.
std::size_t stack_size();
std::size_t stack_size(std::size_t size);

// Python's threading._register_atexit: fn runs at process exit before non-daemon threads
// are joined, hooks in reverse order of registration. Throws RuntimeError once shutdown
// has begun. Executors use it to finish their work.
void register_atexit(std::function<void()> fn);

}  // namespace pyconc::threading
