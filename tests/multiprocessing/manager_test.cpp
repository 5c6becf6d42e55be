// Managers: the server process, every SyncManager type, proxies crossing processes, nested
// proxies and the references that keep objects alive, errors, registered types, remote use.
#include <gmock/gmock.h>
#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <fstream>
#include <functional>
#include <chrono>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "mp_support.hpp"
#include "scenario.hpp"
#include "pyconc/multiprocessing.hpp"
#include "pyconc/queue.hpp"
#include "pyconc/threading.hpp"

namespace mp = pyconc::multiprocessing;
namespace mgr = pyconc::multiprocessing::managers;
using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;
using pyconc::testing::process_ended;

namespace {

using Dict = mgr::DictProxy<std::string, int>;
using List = mgr::ListProxy<int>;

class ManagerTest : public pyconc::testing::EveryStartMethod {
 protected:
  mp::SyncManager manager() const { return mp::Manager({.context = context()}); }
};
PYCONC_EVERY_START_METHOD(ManagerTest);

bool wait_until(const std::function<bool()>& condition, std::chrono::seconds limit = 60s) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

// --- MGR-01: the server process and its end -----------------------------------------------

// covers MGR-01: Manager() starts a server process named after the manager and returns it started;
// shutdown() stops it and may be called again.
TEST_P(ManagerTest, ManagerStartsANamedServerProcessAndShutdownEndsIt) {
  auto m = manager();
  auto server = m.process();
  ASSERT_TRUE(server.has_value());
  EXPECT_TRUE(server->is_alive());
  EXPECT_THAT(server->name(), ::testing::StartsWith("SyncManager-"));
  m.shutdown();
  EXPECT_FALSE(server->is_alive());
  EXPECT_EQ(server->exitcode(), 0);
  m.shutdown();  // again: nothing
}

// covers MGR-01: destroying the manager (the end of Python's `with` block) shuts the server down.
TEST_P(ManagerTest, DestroyingTheManagerShutsTheServerDown) {
  std::optional<mp::Process> server;
  {
    auto m = manager();
    server = m.process();
  }
  EXPECT_FALSE(server->is_alive());
}

// covers MGR-01: the server ignores SIGINT (meant for the program, not for its shared state).
TEST_P(ManagerTest, ServerIgnoresSigint) {
  auto m = manager();
  auto d = m.dict<std::string, int>();
  d["before"] = 1;
  ASSERT_EQ(::kill(*m.process()->pid(), SIGINT), 0);
  d["after"] = 2;  // a request after the signal is served: the server is still there
  EXPECT_EQ(d.len(), 2u);
  EXPECT_TRUE(m.process()->is_alive());
}

// covers MGR-01: a server that does not stop when asked is terminated after shutdown_timeout,
// then killed (a stopped process does not act on SIGTERM; SIGKILL ends it).
TEST_P(ManagerTest, AServerThatDoesNotStopIsTerminatedThenKilled) {
  auto m = mp::Manager({.context = context(), .shutdown_timeout = 0.2});
  auto server = *m.process();
  ASSERT_EQ(::kill(*server.pid(), SIGSTOP), 0);
  m.shutdown();
  EXPECT_FALSE(server.is_alive());
  EXPECT_EQ(server.exitcode(), -SIGKILL);
}

// --- MGR-02: misuse of the life cycle -------------------------------------------------------

// covers MGR-02: start() twice; start() after shutdown; a proxy used after shutdown.
TEST_P(ManagerTest, LifeCycleMisuseRaisesProcessErrorAndDeadProxiesRaiseOSError) {
  auto m = manager();
  try {
    m.start();
    FAIL() << "started twice";
  } catch (const mp::ProcessError& e) {
    EXPECT_STREQ(e.what(), "Already started server");
  }
  auto d = m.dict<std::string, int>();
  d["x"] = 1;
  m.shutdown();
  try {
    m.start();
    FAIL() << "started after shutdown";
  } catch (const mp::ProcessError& e) {
    EXPECT_STREQ(e.what(), "Manager has shut down");
  }
  EXPECT_THROW(d.getitem("x"), pyconc::OSError);
  EXPECT_THROW(d.getitem("x"), pyconc::OSError);  // and again, over a new connection attempt
  EXPECT_THROW((m.dict<std::string, int>()), mp::ProcessError);
}

// covers MGR-02: a manager never started has no objects to make.
TEST(ManagerLifeCycle, ObjectsNeedAStartedManager) {
  mp::SyncManager m;
  EXPECT_THROW((m.dict<std::string, int>()), mp::ProcessError);
  EXPECT_THROW((void)m.address(), pyconc::ValueError);
  EXPECT_THROW(m.connect(), pyconc::ValueError);
}

// --- MGR-03: each type --------------------------------------------------------------------

// covers MGR-03: dict — item access, insertion order, get/pop/popitem/setdefault/update/clear.
TEST_P(ManagerTest, DictProxyRunsEveryMethodInTheServer) {
  auto m = manager();
  auto d = m.dict<std::string, int>({{"a", 1}, {"b", 2}});
  d["c"] = 3;
  EXPECT_EQ(static_cast<int>(d["a"]), 1);
  EXPECT_EQ(d.len(), 3u);
  EXPECT_TRUE(d.contains("b"));
  EXPECT_FALSE(d.contains("z"));
  EXPECT_THAT(d.keys(), ElementsAre("a", "b", "c"));
  EXPECT_THAT(d.values(), ElementsAre(1, 2, 3));
  EXPECT_EQ(d.get("z"), std::nullopt);
  EXPECT_EQ(d.get("z", 9), 9);
  EXPECT_EQ(d.get("b"), 2);
  d["a"] = 10;  // an assignment keeps the key's place
  EXPECT_THAT(d.items(), ElementsAre(Pair("a", 10), Pair("b", 2), Pair("c", 3)));
  EXPECT_EQ(d.pop("b"), 2);
  EXPECT_EQ(d.pop("b", -1), -1);
  EXPECT_EQ(d.setdefault("d", 4), 4);
  EXPECT_EQ(d.setdefault("d", 5), 4);
  EXPECT_EQ(d.popitem(), std::make_pair(std::string("d"), 4));
  d.update(std::vector<std::pair<std::string, int>>{{"e", 5}, {"a", 11}});
  EXPECT_THAT(d.items(), ElementsAre(Pair("a", 11), Pair("c", 3), Pair("e", 5)));
  d.delitem("c");
  EXPECT_EQ(d.len(), 2u);
  d.clear();
  EXPECT_EQ(d.len(), 0u);
  EXPECT_THROW(d.popitem(), pyconc::KeyError);
}

// covers MGR-03: list — Python's index rules, including negative indexes and their errors.
TEST_P(ManagerTest, ListProxyFollowsPythonsIndexRules) {
  auto m = manager();
  auto l = m.list<int>({1, 2, 3});
  l.append(4);
  l.extend(std::vector{5, 6});
  l += {7};
  EXPECT_EQ(l.len(), 7u);
  EXPECT_EQ(l.getitem(-1), 7);
  l[0] = 10;
  EXPECT_EQ(static_cast<int>(l[0]), 10);
  l.insert(1, 20);
  l.insert(-100, 0);  // clamped, as list.insert does
  l.insert(100, 99);
  EXPECT_THAT(l.copy(), ElementsAre(0, 10, 20, 2, 3, 4, 5, 6, 7, 99));
  EXPECT_EQ(l.pop(), 99);
  EXPECT_EQ(l.pop(0), 0);
  EXPECT_EQ(l.index(3), 3u);
  EXPECT_EQ(l.count(5), 1u);
  l.remove(20);
  l.delitem(-1);
  l.reverse();
  EXPECT_THAT(l.copy(), ElementsAre(6, 5, 4, 3, 2, 10));
  EXPECT_TRUE(l.contains(4));
  EXPECT_THROW(l.getitem(6), pyconc::IndexError);
  EXPECT_THROW(l.getitem(-7), pyconc::IndexError);
  EXPECT_THROW(l.setitem(6, 0), pyconc::IndexError);
  EXPECT_THROW(l.remove(42), pyconc::ValueError);
  EXPECT_THROW(l.index(42), pyconc::ValueError);
  l.clear();
  EXPECT_THROW(l.pop(), pyconc::IndexError);
}

// covers MGR-03: Value, Array and Namespace.
TEST_P(ManagerTest, ValueArrayAndNamespaceProxies) {
  auto m = manager();
  auto v = m.Value<double>(1.5);
  EXPECT_EQ(v.value(), 1.5);
  v.set_value(2.5);
  EXPECT_EQ(v.get(), 2.5);
  auto a = m.Array<int>({1, 2, 3});
  a[1] = 20;
  EXPECT_EQ(a.len(), 3u);
  EXPECT_THAT(a.copy(), ElementsAre(1, 20, 3));
  EXPECT_THROW(a.getitem(3), pyconc::IndexError);
  auto ns = m.Namespace();
  ns.set("x", 1);
  ns.set("name", std::string("pyconc"));
  EXPECT_EQ(ns.get<int>("x"), 1);
  EXPECT_EQ(ns.get<std::string>("name"), "pyconc");
  EXPECT_THAT(ns.names(), ElementsAre("x", "name"));
  ns.del("x");
  EXPECT_FALSE(ns.has("x"));
  EXPECT_THROW(ns.get<int>("x"), pyconc::AttributeError);
}

// covers MGR-03, MGR-07: Queue and JoinableQueue — FIFO, Full/Empty with and without timeouts,
// task_done/join.
TEST_P(ManagerTest, QueueProxyKeepsQueueRules) {
  auto m = manager();
  auto q = m.Queue<std::string>(2);
  q.put("a");
  q.put_nowait("b");
  EXPECT_TRUE(q.full());
  EXPECT_THROW(q.put_nowait("c"), pyconc::queue::Full);
  EXPECT_THROW(q.put("c", true, 20ms), pyconc::queue::Full);
  EXPECT_EQ(q.qsize(), 2u);
  EXPECT_EQ(q.get(), "a");
  EXPECT_EQ(q.get_nowait(), "b");
  EXPECT_TRUE(q.empty());
  EXPECT_THROW(q.get_nowait(), pyconc::queue::Empty);
  EXPECT_THROW(q.get(true, 20ms), pyconc::queue::Empty);
  auto jq = m.JoinableQueue<int>();
  jq.put(1);
  EXPECT_EQ(jq.get(), 1);
  jq.task_done();
  jq.join();
  EXPECT_THROW(jq.task_done(), pyconc::ValueError);
}

// covers MGR-03, MGR-07: Lock, RLock, Semaphore, BoundedSemaphore through AcquirerProxy, with
// threading's errors raised in the caller.
TEST_P(ManagerTest, AcquirerProxiesKeepThreadingRules) {
  auto m = manager();
  auto lock = m.Lock();
  EXPECT_TRUE(lock.acquire());
  EXPECT_FALSE(lock.acquire(false));
  EXPECT_FALSE(lock.acquire(true, 20ms));
  lock.release();
  try {
    lock.release();
    FAIL() << "released an unlocked lock";
  } catch (const pyconc::RuntimeError& e) {
    EXPECT_STREQ(e.what(), "release unlocked lock");
  }
  auto rlock = m.RLock();
  {
    std::scoped_lock hold(rlock);
    EXPECT_TRUE(rlock.acquire());  // reentrant for this thread
    rlock.release();
  }
  EXPECT_THROW(rlock.release(), pyconc::RuntimeError);
  auto semaphore = m.Semaphore(2);
  EXPECT_TRUE(semaphore.acquire());
  EXPECT_TRUE(semaphore.acquire());
  EXPECT_FALSE(semaphore.acquire(false));
  auto bounded = m.BoundedSemaphore(1);
  EXPECT_THROW(bounded.release(), pyconc::ValueError);
}

// covers MGR-03: an RLock held by one client thread is not another thread's (each thread has its
// own connection and server thread).
TEST_P(ManagerTest, AnRLockBelongsToTheThreadThatAcquiredIt) {
  auto m = manager();
  auto rlock = m.RLock();
  ASSERT_TRUE(rlock.acquire());
  bool other_got_it = true;
  bool other_release_failed = false;
  std::thread other([&] {
    other_got_it = rlock.acquire(false);
    try {
      rlock.release();
    } catch (const pyconc::RuntimeError&) {
      other_release_failed = true;
    }
  });
  other.join();
  EXPECT_FALSE(other_got_it);
  EXPECT_TRUE(other_release_failed);
  rlock.release();
}

// covers MGR-03: Condition, Event and Barrier, their timeouts included.
TEST_P(ManagerTest, ConditionEventAndBarrierProxies) {
  auto m = manager();
  auto event = m.Event();
  EXPECT_FALSE(event.is_set());
  EXPECT_FALSE(event.wait(10ms));
  auto condition = m.Condition();
  auto ready = m.Value<int>(0);
  std::thread waiter([&] {
    std::scoped_lock hold(condition);
    event.set();  // said while holding the condition's lock: the notify below comes after the wait
    condition.wait_for([&] { return ready.get() == 1; });
  });
  ASSERT_TRUE(event.wait(60s));
  {
    std::scoped_lock hold(condition);
    ready.set(1);
    condition.notify_all();
  }
  waiter.join();
  {
    std::scoped_lock hold(condition);
    EXPECT_FALSE(condition.wait(10ms));
    EXPECT_FALSE(condition.wait_for([] { return false; }, 10ms));
  }
  EXPECT_THROW(condition.wait(), pyconc::RuntimeError);  // not held: "cannot wait on un-acquired lock"
  event.clear();
  EXPECT_FALSE(event.is_set());

  auto barrier = m.Barrier(2);
  EXPECT_EQ(barrier.parties(), 2);
  std::int64_t other_index = -1;
  std::thread other([&] { other_index = barrier.wait(); });
  const auto index = barrier.wait();
  other.join();
  EXPECT_EQ(index + other_index, 1);
  EXPECT_THROW(barrier.wait(10ms), pyconc::threading::BrokenBarrierError);
  EXPECT_TRUE(barrier.broken());
  barrier.reset();
  EXPECT_FALSE(barrier.broken());
  EXPECT_EQ(barrier.n_waiting(), 0);
}

// --- MGR-04: proxies in other processes ---------------------------------------------------

void add_to(Dict d, List l, mgr::AcquirerProxy lock, int n) {
  for (int i = 0; i < n; ++i) {
    std::scoped_lock hold(lock);
    d["count"] = d["count"] + 1;  // a get and a set: atomic only under the lock (MGR-05)
  }
  l.append(static_cast<int>(::getpid() % 1000));
}

// covers MGR-04: proxies passed to children reconnect there; every change is seen by all.
TEST_P(ManagerTest, ProxiesPassedToChildrenShareOneObject) {
  if (fork_with_threads_unsupported()) GTEST_SKIP() << "fork with threads under a sanitizer";
  auto m = manager();
  auto d = m.dict<std::string, int>({{"count", 0}});
  auto l = m.list<int>();
  auto lock = m.Lock();
  std::vector<mp::Process> children;
  for (int i = 0; i < 4; ++i) children.push_back(context().Process(add_to, d, l, lock, 25));
  for (auto& child : children) child.start();
  for (auto& child : children) child.join();
  for (auto& child : children) EXPECT_EQ(child.exitcode(), 0);
  EXPECT_EQ(static_cast<int>(d["count"]), 100);
  EXPECT_EQ(l.len(), 4u);
}

// covers MGR-04: many threads of one process on one dict, with random pauses; each thread's own key
// ends with its exact count.
TEST_P(ManagerTest, ManyThreadsShareAProxy) {
  if (GetParam() != "forkserver") GTEST_SKIP() << "the server's start method does not matter here";
  auto m = manager();
  auto d = m.dict<std::string, int>();
  constexpr int kThreads = 8, kRounds = 50;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([d, t] {
      std::mt19937 random(t);
      const std::string key = "t" + std::to_string(t);
      d[key] = 0;
      for (int i = 0; i < kRounds; ++i) {
        d[key] = d[key] + 1;
        if (random() % 4 == 0) std::this_thread::yield();
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(d.len(), static_cast<std::size_t>(kThreads));
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(d.getitem("t" + std::to_string(t)), kRounds);
}

// --- MGR-05: what is and is not shared -----------------------------------------------------

// covers MGR-05: a value read out of a proxy is a copy; Namespace names starting with '_' stay local.
TEST_P(ManagerTest, OnlyCallsThroughAProxyAreShared) {
  auto m = manager();
  auto l = m.list<std::vector<int>>({{1}});
  auto inner = l.getitem(0);
  inner.push_back(2);  // a local copy
  EXPECT_THAT(l.getitem(0), ElementsAre(1));
  l.setitem(0, inner);  // stored back
  EXPECT_THAT(l.getitem(0), ElementsAre(1, 2));
  auto ns = m.Namespace();
  ns.set("_private", 1);
  ns.set("shared", 2);
  EXPECT_EQ(ns.get<int>("_private"), 1);
  EXPECT_THAT(ns.names(), ElementsAre("shared"));
  mgr::NamespaceProxy copy = pyconc::pickle::loads<mgr::NamespaceProxy>(pyconc::pickle::dumps(ns));
  EXPECT_EQ(copy.get<int>("shared"), 2);
  EXPECT_THROW(copy.get<int>("_private"), pyconc::AttributeError);
}

// --- MGR-06: nested proxies and lifetimes --------------------------------------------------

// covers MGR-06: a proxy stored in a dict stays a reference to the shared inner object, which lives
// while the container holds it, after the original proxy is gone.
TEST_P(ManagerTest, NestedProxiesStayReferencesAndKeepTheirObjectsAlive) {
  auto m = manager();
  auto outer = m.dict<std::string, Dict>();
  {
    auto inner = m.dict<std::string, int>();
    outer["inner"] = inner;
    EXPECT_EQ(m.number_of_objects(), 2u);
  }
  EXPECT_EQ(m.number_of_objects(), 1u);  // the inner one is held by the outer dict alone
  outer["inner"]["x"] = 1;               // through the outer dict, on the shared inner object
  EXPECT_EQ(outer.getitem("inner").getitem("x"), 1);
  EXPECT_EQ(m.number_of_objects(), 1u);  // the proxies read out are gone again
  outer.delitem("inner");
  EXPECT_EQ(m.number_of_objects(), 1u);
  {
    auto popped = m.dict<std::string, int>();
    outer["p"] = popped;
  }
  auto popped = outer.pop("p");  // the value leaves the dict; its proxy keeps it alive
  popped["y"] = 2;
  EXPECT_EQ(m.number_of_objects(), 2u);
}

void put_through_nested(mgr::ListProxy<mgr::QueueProxy<int>> queues, int value) {
  queues.getitem(0).put(value);
}

// covers MGR-06: a Queue proxy inside a list works, in another process too.
TEST_P(ManagerTest, AQueueProxyInsideAListWorksAcrossProcesses) {
  if (fork_with_threads_unsupported()) GTEST_SKIP() << "fork with threads under a sanitizer";
  auto m = manager();
  auto queues = m.list<mgr::QueueProxy<int>>({m.Queue<int>()});
  auto child = context().Process(put_through_nested, queues, 42);
  child.start();
  child.join();
  EXPECT_EQ(child.exitcode(), 0);
  EXPECT_EQ(queues.getitem(0).get(true, 60s), 42);
}

// covers MGR-04, MGR-06: the references of proxies that crossed to children are given back when
// the children end: the server holds only what the parent still refers to.
TEST_P(ManagerTest, ChildrenGiveTheirReferencesBack) {
  if (fork_with_threads_unsupported()) GTEST_SKIP() << "fork with threads under a sanitizer";
  auto m = manager();
  auto d = m.dict<std::string, int>({{"count", 0}});
  auto l = m.list<int>();
  auto lock = m.Lock();
  {
    auto child = context().Process(add_to, d, l, lock, 1);
    child.start();
    child.join();
    EXPECT_EQ(child.exitcode(), 0);
  }
  EXPECT_EQ(m.number_of_objects(), 3u);
  {
    auto temporary = m.list<int>();
    EXPECT_EQ(m.number_of_objects(), 4u);
  }
  EXPECT_EQ(m.number_of_objects(), 3u);
}

// --- MGR-07: errors -----------------------------------------------------------------------

// covers MGR-07: the method's exception with its type; the machinery's failure as RemoteError.
TEST_P(ManagerTest, ServerErrorsKeepTheirTypeAndMachineryFailuresAreRemoteError) {
  auto m = manager();
  auto d = m.dict<std::string, int>();
  EXPECT_THROW(d.getitem("missing"), pyconc::KeyError);
  EXPECT_THROW(d.delitem("missing"), pyconc::KeyError);
  try {
    d.callmethod<int>("no_such_method");
    FAIL() << "called a method that is not exposed";
  } catch (const mp::RemoteError& e) {
    EXPECT_EQ(e.remote_type(), "AttributeError");
    EXPECT_THAT(e.what(), HasSubstr("'no_such_method' of 'dict'"));
  }
  EXPECT_THROW(mgr::BaseProxy().callmethod("x"), pyconc::ValueError);
}

// A server killed under its clients: calls fail with an OSError, none hangs.
TEST_P(ManagerTest, AKilledServerFailsCallsWithOSError) {
  auto m = manager();
  auto q = m.Queue<int>();
  std::atomic<bool> failed{false};
  std::thread blocked([&] {
    try {
      q.get();
    } catch (const pyconc::OSError&) {
      failed = true;
    }
  });
  // Killed before, during or after the thread's get() reaches it: the get fails either way.
  m.process()->kill();
  blocked.join();
  EXPECT_TRUE(failed);
  EXPECT_THROW(q.put(1), pyconc::OSError);
}

// --- MGR-08: registered types --------------------------------------------------------------

struct Maths {
  int base = 0;
  explicit Maths(int b = 0) : base(b) {}
  int add(int x, int y) const { return base + x + y; }
  double mul(double x, double y) const { return x * y; }
  void fail(std::string message) const { throw pyconc::ValueError(message); }
};

class MathsProxy : public mgr::BaseProxy {  // Python's proxytype=
 public:
  using BaseProxy::BaseProxy;
  int add(int x, int y) const { return callmethod<int>("add", x, y); }
};

struct Counter {
  std::atomic<long> n{0};
  long add(long k) { return n += k; }
  long get() const { return n.load(); }
};
std::shared_ptr<Counter> the_counter() {
  static auto counter = std::make_shared<Counter>();
  return counter;
}

mgr::Registry maths_registry() {
  mgr::Registry types;
  types.register_type<Maths, int>("Maths").method<&Maths::add>("add").method<&Maths::mul>("mul").method<&Maths::fail>(
      "fail");
  types.register_factory<&the_counter>("get_counter").method<&Counter::add>("add").method<&Counter::get>("get");
  return types;
}

// covers MGR-08: a registered type is made in the server by create(), and only its registered
// methods may be called.
TEST_P(ManagerTest, RegisteredTypesRunTheirExposedMethodsInTheServer) {
  mgr::BaseManager m({.registry = maths_registry(), .context = context()});
  m.start();
  auto maths = m.create<MathsProxy>("Maths", 10);
  EXPECT_EQ(maths.add(1, 2), 13);
  EXPECT_EQ(maths.callmethod<double>("mul", 1.5, 2.0), 3.0);
  EXPECT_THROW(maths.callmethod("fail", std::string("bad")), pyconc::ValueError);
  EXPECT_THROW(maths.callmethod<int>("base"), mp::RemoteError);          // not exposed
  EXPECT_THROW(maths.callmethod<int>("add", 1L, 2L), pyconc::pickle::UnpicklingError);  // wrong types
  EXPECT_THROW(m.create("Unknown"), mp::RemoteError);
  // A factory returning a shared_ptr gives every caller the same object.
  auto c1 = m.create("get_counter");
  auto c2 = m.create("get_counter");
  c1.callmethod<long>("add", 2L);
  EXPECT_EQ(c2.callmethod<long>("add", 3L), 5);
}

// covers MGR-08: registering in a copy of a registry leaves the original unchanged.
TEST(ManagerRegistry, RegisteringInACopyLeavesTheOriginalUnchanged) {
  mgr::Registry base = maths_registry();
  mgr::Registry derived = base;
  derived.register_type<Counter>("Counter").method<&Counter::get>("get");
  EXPECT_TRUE(derived.contains("Counter"));
  EXPECT_FALSE(base.contains("Counter"));
  EXPECT_TRUE(base.contains("Maths"));
}

// --- MGR-09: remote managers --------------------------------------------------------------

void serve_counter(int port_hint, mp::Connection tell_port) {
  mgr::BaseManager m({.address = mgr::Address{std::pair<std::string, int>{"127.0.0.1", port_hint}},
                      .authkey = std::string("abracadabra"),
                      .registry = maths_registry()});
  auto server = m.get_server();
  tell_port.send(std::get<std::pair<std::string, int>>(server.address()).second);
  server.serve_forever();
}

// covers MGR-09: a server over TCP in another process, used by a client that only connects; a
// wrong authkey is AuthenticationError and the server goes on serving.
TEST_P(ManagerTest, RemoteManagerServesClientsWithTheRightKeyOnly) {
  if (GetParam() == "fork") GTEST_SKIP() << "the server's start method does not matter here";
  auto [reader, writer] = mp::Pipe(false);
  auto server = context().Process(serve_counter, 0, writer);
  server.start();
  const int port = reader.recv<int>();
  const mgr::Address address{std::pair<std::string, int>{"127.0.0.1", port}};

  mgr::BaseManager wrong({.address = address, .authkey = std::string("wrong")});
  try {
    wrong.connect();
    FAIL() << "connected with a wrong key";
  } catch (const mp::AuthenticationError& e) {
    EXPECT_THAT(e.what(), HasSubstr("digest sent was rejected"));
  }
  mgr::BaseManager client({.address = address, .authkey = std::string("abracadabra")});
  client.connect();
  auto counter = client.create("get_counter");
  EXPECT_EQ(counter.callmethod<long>("add", 5L), 5);
  mgr::BaseManager second({.address = address, .authkey = std::string("abracadabra")});
  second.connect();
  EXPECT_EQ(second.create("get_counter").callmethod<long>("get"), 5);  // the same shared object

  // A connection that brings no key at all is refused too.
  auto no_key = mp::connection::Client(address);
  no_key.send(1);
  EXPECT_THROW(no_key.recv<int>(), pyconc::Error);

  client.shutdown();  // only connected: stops nothing
  EXPECT_EQ(counter.callmethod<long>("get"), 5);
  server.terminate();
  server.join();
}

// --- exit and orphans ---------------------------------------------------------------------

// Proxies and managers left alive at exit: the references go back, the server stops, and the
// program exits 0. A killed parent's server exits on its own.
TEST_P(ManagerTest, ManagersLeftRunningAtExitAndOrphanedServersEnd) {
  auto at_exit = pyconc::testing::run_program(PYCONC_MP_SCENARIOS, "manager_at_exit:" + GetParam());
  EXPECT_EQ(at_exit.exit_code, 0) << at_exit.output;
  EXPECT_THAT(at_exit.output, HasSubstr("count: 3"));
  const auto server_at = at_exit.output.find("server: ");
  ASSERT_NE(server_at, std::string::npos) << at_exit.output;
  const pid_t stopped = std::stoi(at_exit.output.substr(server_at + 8));
  EXPECT_TRUE(wait_until([&] { return process_ended(stopped); })) << "the server outlived the program";
  auto killed = pyconc::testing::run_program(PYCONC_MP_SCENARIOS, "manager_parent_killed:" + GetParam());
  const auto at = killed.output.find("server: ");
  ASSERT_NE(at, std::string::npos) << killed.output;
  const pid_t server = std::stoi(killed.output.substr(at + 8));
  EXPECT_TRUE(wait_until([&] { return process_ended(server); })) << "the server outlived its parent";
  if (!process_ended(server)) ::kill(server, SIGKILL);
}

}  // namespace
