#include <algorithm>
#include <set>

#include "support.hpp"

// A named function, so default thread names can show it (Python: "Thread-N (worker)").
void pyconc_named_worker(int) {}

namespace {

using namespace pyconc::testing;
using pyconc::threading::Event;
using pyconc::threading::Thread;
namespace threading = pyconc::threading;

// covers THR-01
TEST(Thread, StartTwiceIsRuntimeError) {
  Thread t([] {});
  t.start();
  EXPECT_THROW(t.start(), pyconc::RuntimeError);
  t.join();
  EXPECT_THROW(t.start(), pyconc::RuntimeError);
}

// covers THR-02
TEST(Thread, JoinBeforeStartOrSelfIsRuntimeError) {
  Thread t([] {});
  EXPECT_THROW(t.join(), pyconc::RuntimeError);
  bool threw = false;
  Thread self_joiner([&] {
    try {
      threading::current_thread().join();
    } catch (const pyconc::RuntimeError&) {
      threw = true;
    }
  });
  self_joiner.start();
  self_joiner.join();
  EXPECT_TRUE(threw);
}

// covers THR-03
TEST(Thread, DaemonCannotChangeAfterStart) {
  Event stop;
  Thread t([&] { stop.wait(); });
  t.set_daemon(true);
  t.start();
  EXPECT_THROW(t.set_daemon(false), pyconc::RuntimeError);
  stop.set();
  t.join();
}

// covers THR-04
TEST(Thread, DaemonInheritedFromCreator) {
  Thread plain([] {});
  EXPECT_FALSE(plain.daemon());  // the main thread is not a daemon
  bool child_daemon = false, overridden = true;
  Thread parent({.daemon = true}, [&] {
    Thread child([] {});
    Thread explicit_child({.daemon = false}, [] {});
    child_daemon = child.daemon();
    overridden = explicit_child.daemon();
  });
  parent.start();
  parent.join();
  EXPECT_TRUE(child_daemon);
  EXPECT_FALSE(overridden);
}

// covers THR-05
TEST(Thread, JoinWithTimeoutThenCheckIsAlive) {
  Event stop;
  Thread t([&] { stop.wait(); });
  t.start();
  Stopwatch sw;
  t.join(100ms);
  expect_timed_wait(sw.elapsed(), 100ms);
  EXPECT_TRUE(t.is_alive());
  Stopwatch instant;
  t.join(-1s);  // negative acts as 0
  EXPECT_LT(instant.elapsed().count(), 2.0);
  stop.set();
  t.join();
  t.join();  // many times
  EXPECT_FALSE(t.is_alive());
}

// covers THR-06, THR-07
TEST(Thread, AliveRightAfterStartAndStoppedWithoutJoin) {
  Event go;
  Thread t([&] { go.wait(); });
  EXPECT_FALSE(t.is_alive());
  t.start();
  EXPECT_TRUE(t.is_alive());
  go.set();
  ASSERT_TRUE(eventually([&] { return !t.is_alive(); }));
  t.join();
}

// covers THR-08
TEST(Thread, IdentAndNativeId) {
  Thread t([] {});
  EXPECT_FALSE(t.ident().has_value());
  t.start();
  t.join();
  ASSERT_TRUE(t.ident().has_value());
  EXPECT_NE(*t.ident(), 0u);
  EXPECT_TRUE(t.native_id().has_value());
  Event stop;
  std::set<std::uint64_t> ids;
  ThreadGroup group(4, [&](int) { stop.wait(); });
  for (std::size_t i = 0; i < group.size(); ++i) ids.insert(*group[i].native_id());
  ids.insert(threading::get_native_id());
  EXPECT_EQ(ids.size(), 5u);
  stop.set();
}

// covers THR-09
TEST(Thread, Naming) {
  Thread named({.name = std::to_string(123)}, [] {});
  EXPECT_EQ(named.name(), "123");
  Thread lambda([] {});
  EXPECT_TRUE(lambda.name().rfind("Thread-", 0) == 0);
  EXPECT_TRUE(lambda.name().ends_with(" (<lambda>)")) << lambda.name();
  Thread function(pyconc_named_worker, 1);
  EXPECT_TRUE(function.name().ends_with(" (pyconc_named_worker)")) << function.name();
  Thread plain;
  EXPECT_TRUE(plain.name().rfind("Thread-", 0) == 0);
  EXPECT_EQ(plain.name().find('('), std::string::npos);
  plain.set_name("renamed");
  EXPECT_EQ(plain.name(), "renamed");
}

// covers THR-10
TEST(Thread, ArgumentsAreForwarded) {
  int sum = 0;
  std::string text;
  Thread t([&](int a, int b, std::string s) {
    sum = a + b;
    text = s;
  }, 2, 3, std::string("kw"));
  t.start();
  t.join();
  EXPECT_EQ(sum, 5);
  EXPECT_EQ(text, "kw");
  // Move-only arguments work too.
  int moved = 0;
  Thread m([&](std::unique_ptr<int> p) { moved = *p; }, std::make_unique<int>(7));
  m.start();
  m.join();
  EXPECT_EQ(moved, 7);
}

// covers THR-11
TEST(Thread, ExceptionGoesToHookAndJoinDoesNotRethrow) {
  std::string seen_type;
  auto previous = threading::set_excepthook([&](const threading::ExceptHookArgs& a) {
    seen_type = a.exc_type;
  });
  Thread t([] { throw pyconc::ValueError("bad"); });
  t.start();
  EXPECT_NO_THROW(t.join());
  threading::set_excepthook(previous);
  EXPECT_EQ(seen_type, "ValueError");
}

// covers THR-12
TEST(Thread, EnumerateAndActiveCount) {
  Event stop;
  auto t = std::make_unique<Thread>([&] { stop.wait(); });
  t->start();
  auto listed = threading::enumerate();
  EXPECT_NE(std::find(listed.begin(), listed.end(), *t), listed.end());
  EXPECT_NE(std::find(listed.begin(), listed.end(), threading::main_thread()), listed.end());
  EXPECT_EQ(threading::active_count(), listed.size());
  stop.set();
  t->join();
  listed = threading::enumerate();
  EXPECT_EQ(std::find(listed.begin(), listed.end(), *t), listed.end());
  // A foreign (std::thread) thread is listed as a dummy while it lives.
  std::size_t with_dummy = 0;
  std::thread foreign([&] {
    threading::current_thread();
    with_dummy = threading::active_count();
  });
  foreign.join();
  EXPECT_EQ(with_dummy, threading::active_count() + 1);
}

// covers THR-13
TEST(Thread, MainThread) {
  EXPECT_EQ(threading::main_thread().name(), "MainThread");
  EXPECT_EQ(*threading::main_thread().ident(), threading::get_ident());
  std::uint64_t other = 0;
  Thread t([&] { other = threading::get_ident(); });
  t.start();
  t.join();
  EXPECT_NE(other, threading::get_ident());
  EXPECT_TRUE(threading::current_thread() == threading::main_thread());
}

// covers THR-14
TEST(Thread, ForeignThreadGetsDummy) {
  std::string name;
  bool alive = false, daemon = false;
  std::thread foreign([&] {
    const auto me = threading::current_thread();
    name = me.name();
    alive = me.is_alive();
    daemon = me.daemon();
  });
  foreign.join();
  EXPECT_TRUE(name.rfind("Dummy-", 0) == 0) << name;
  EXPECT_TRUE(alive);
  EXPECT_TRUE(daemon);
}

// covers THR-15
TEST(Thread, TargetDroppedAfterRun) {
  auto token = std::make_shared<int>(1);
  std::weak_ptr<int> watch = token;
  Thread t([keep = std::move(token)] { (void)keep; });
  t.start();
  t.join();
  EXPECT_TRUE(watch.expired());
}

// covers THR-16
TEST(Thread, Repr) {
  Event stop;
  Thread t({.name = "r", .daemon = true}, [&] { stop.wait(); });
  EXPECT_EQ(t.repr(), "<Thread(r, initial daemon)>");
  t.start();
  EXPECT_EQ(t.repr(), "<Thread(r, started daemon " + std::to_string(*t.ident()) + ")>");
  stop.set();
  t.join();
  EXPECT_EQ(t.repr(), "<Thread(r, stopped daemon " + std::to_string(*t.ident()) + ")>");
}

// Python's subclass form: override run().
class Counter : public Thread {
 public:
  Counter() : Thread(threading::ThreadOptions{.name = "counter"}) {}
  void run() override {
    for (int i = 0; i < 100; ++i) ++count;
    name_inside = threading::current_thread().name();
  }
  int count = 0;
  std::string name_inside;
};

TEST(Thread, SubclassOverridesRun) {
  Counter c;
  c.start();
  c.join();
  EXPECT_EQ(c.count, 100);
  EXPECT_EQ(c.name_inside, "counter");
}

// A target thread keeps running after its Thread object is gone, as in Python.
TEST(Thread, TargetThreadOutlivesItsObject) {
  Event go, done;
  {
    Thread t([&] {
      go.wait();
      done.set();
    });
    t.start();
  }
  go.set();
  EXPECT_TRUE(done.wait(30s));
}

TEST(Thread, ManyShortThreads) {
  std::atomic<int> ran{0};
  for (int round = 0; round < 20; ++round) {
    ThreadGroup group(10, [&](int) { ran.fetch_add(1); });
  }
  EXPECT_EQ(ran.load(), 200);
}

}  // namespace
