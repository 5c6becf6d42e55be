// Lifetimes: a signal may be the last thing a primitive sees (the waiter destroys it at
// once), handles given out for threads keep them alive, failures leave no dangling state.
#include <sys/resource.h>

#include <cmath>
#include <random>

#include "pyconc/futures.hpp"
#include "pyconc/queue.hpp"
#include "pyconc/report.hpp"
#include "support.hpp"

namespace {

using namespace pyconc::testing;
using pyconc::threading::BoundedSemaphore;
using pyconc::threading::Condition;
using pyconc::threading::Event;
using pyconc::threading::Lock;
using pyconc::threading::Semaphore;
using pyconc::threading::Thread;
namespace threading = pyconc::threading;

// The POSIX sem_post / std::latch pattern: the waiter frees the primitive as soon as it
// returns. The signaller must not read it after the store the waiter can see (ASan reports
// a heap use-after-free otherwise).
template <class Primitive, class Wait, class Signal>
void waiter_destroys_right_after(Wait wait, Signal signal) {
  pyconc::queue::SimpleQueue<Primitive*> handed;
  Thread waiter([&] {
    while (Primitive* p = handed.get()) {
      wait(*p);
      delete p;
    }
  });
  waiter.start();
  std::minstd_rand rng(5);
  for (int i = 0; i < 3000; ++i) {
    auto* p = new Primitive();
    handed.put(p);
    if (rng() % 2) jitter(rng);
    signal(*p);  // p may be freed by the time this returns
  }
  handed.put(nullptr);
  waiter.join();
}

TEST(Lifetime, EventSetIsTheLastTouch) {
  waiter_destroys_right_after<Event>([](Event& e) { e.wait(); }, [](Event& e) { e.set(); });
}

struct ZeroSemaphore : Semaphore {
  ZeroSemaphore() : Semaphore(0) {}
};

TEST(Lifetime, SemaphoreReleaseIsTheLastTouch) {
  waiter_destroys_right_after<ZeroSemaphore>([](Semaphore& s) { s.acquire(); },
                                             [](Semaphore& s) { s.release(); });
}

// current_thread(), enumerate() and the excepthook's thread stay valid after the Thread
// object that started the thread is gone (Python's references keep the object alive).
TEST(Lifetime, ThreadHandlesOutliveTheThreadObject) {
  Event object_gone, listed;
  std::string name_inside;
  auto t = std::make_unique<Thread>(threading::ThreadOptions{.name = "handle-test", .daemon = {}}, [&] {
    object_gone.wait();
    const Thread me = threading::current_thread();
    name_inside = me.name();
    listed.wait();
  });
  t->start();
  t.reset();
  object_gone.set();
  std::vector<Thread> all = threading::enumerate();
  listed.set();
  bool found = false;
  for (const Thread& th : all) found = found || th.name() == "handle-test";
  EXPECT_TRUE(found);
  for (Thread& th : all)
    if (th.name() == "handle-test") th.join();
  EXPECT_EQ(name_inside, "handle-test");
}

TEST(Lifetime, ExcepthookThreadOutlivesTheThreadObject) {
  std::optional<Thread> reported;
  Event reported_once;
  auto previous = threading::set_excepthook([&](const threading::ExceptHookArgs& a) {
    reported = a.thread;
    reported_once.set();
  });
  {
    Thread t({.name = "raiser", .daemon = {}}, [] { throw pyconc::ValueError("x"); });
    t.start();
  }  // destroyed while it may still be running
  reported_once.wait();
  threading::set_excepthook(previous);
  ASSERT_TRUE(reported);
  reported->join();
  EXPECT_EQ(reported->name(), "raiser");
  EXPECT_FALSE(reported->is_alive());
}

// join() after a start() that failed: RuntimeError, as in Python (it hung).
TEST(Lifetime, JoinAfterFailedStartRaises) {
  const std::size_t previous = threading::stack_size(std::size_t{1} << 46);  // 64 TiB: refused
  Thread t([] {});
  EXPECT_THROW(t.start(), pyconc::RuntimeError);
  threading::stack_size(previous);
  EXPECT_THROW(t.join(), pyconc::RuntimeError);
  EXPECT_FALSE(t.is_alive());
  t.start();  // never started, so it may be started now
  t.join();
}

TEST(Lifetime, StackSize) {
  EXPECT_EQ(threading::stack_size(), 0u);
  EXPECT_THROW(threading::stack_size(1000), pyconc::ValueError);
  EXPECT_EQ(threading::stack_size(256 * 1024), 0u);
  std::size_t seen = 0;
  Thread t([&] {
    pthread_attr_t attr;
    pthread_getattr_np(pthread_self(), &attr);
    pthread_attr_getstacksize(&attr, &seen);
    pthread_attr_destroy(&attr);
  });
  t.start();
  t.join();
  EXPECT_EQ(threading::stack_size(0), 256u * 1024);
  EXPECT_GE(seen, 256u * 1024);
  EXPECT_LT(seen, 1024u * 1024);
}

// Condition over a plain Lock the caller does not hold while another thread uses it: the
// failed release must not leave the waiter's node in the parking lot (ASan: a dangling
// stack node; then crashes). Each call either raises RuntimeError or, when it released the
// other thread's lock (Python does the same: a Lock has no owner), times out at once.
TEST(Lifetime, ConditionWaitOnUnheldPlainLockLeavesNoTrace) {
  Lock lock;
  Condition cv(lock);
  std::atomic<bool> stop{false};
  Thread user([&] {
    while (!stop.load()) {
      if (!lock.acquire(true, 10ms)) continue;
      try {
        lock.release();
      } catch (const pyconc::RuntimeError&) {
        // the waiter below released it for us
      }
    }
  });
  user.start();
  int raised = 0;
  for (int i = 0; i < 5000; ++i) {
    try {
      EXPECT_FALSE(cv.wait(0ms));
      lock.release();  // wait() re-acquired it for us
    } catch (const pyconc::RuntimeError&) {
      ++raised;
    }
  }
  stop = true;
  user.join();
  EXPECT_GT(raised, 0);
  // The condition still works.
  std::scoped_lock hold(lock);
  EXPECT_FALSE(cv.wait(1ms));
}

TEST(Lifetime, SemaphoreCounterNeverOverflows) {
  Semaphore s(0);
  s.release(Semaphore::VALUE_MAX);
  EXPECT_THROW(s.release(1), pyconc::OverflowError);
  EXPECT_EQ(s.value(), Semaphore::VALUE_MAX);
  EXPECT_THROW(Semaphore(INT64_MAX), pyconc::OverflowError);
  // The bound check of a BoundedSemaphore cannot overflow either (UBSan checks).
  BoundedSemaphore b(1);
  EXPECT_THROW(b.release(INT64_MAX), pyconc::ValueError);
  EXPECT_EQ(b.value(), 1);
  EXPECT_TRUE(b.acquire(false));
  b.release();
  EXPECT_THROW(b.release(INT64_MAX), pyconc::ValueError);
}

// One rule for huge timeouts, CPython's: OverflowError past TIMEOUT_MAX, infinity included.
TEST(Lifetime, HugeTimeoutsRaiseOverflowErrorEverywhere) {
  const std::chrono::duration<double> huge(1e300), inf(INFINITY);
  for (const auto& t : {pyconc::Timeout(huge), pyconc::Timeout(inf)}) {
    Event e;
    EXPECT_THROW(e.wait(t), pyconc::OverflowError);
    Lock l;
    EXPECT_THROW(l.acquire(true, t), pyconc::OverflowError);
    Condition c;
    std::scoped_lock hold(c);
    EXPECT_THROW(c.wait(t), pyconc::OverflowError);
    Semaphore s(0);
    EXPECT_THROW(s.acquire(true, t), pyconc::OverflowError);
    threading::Barrier b(2);
    EXPECT_THROW(b.wait(t), pyconc::OverflowError);
    pyconc::queue::Queue<int> q(1);
    EXPECT_THROW(q.get(true, t), pyconc::OverflowError);
    q.put(1);
    EXPECT_THROW(q.put(2, true, t), pyconc::OverflowError);
    Thread th([] {});
    th.start();
    EXPECT_THROW(th.join(t), pyconc::OverflowError);
    th.join();
    pyconc::futures::Future<int> f;
    EXPECT_THROW(f.result(t), pyconc::OverflowError);
  }
}

}  // namespace
