// pyconc::multiprocessing::managers — Python's multiprocessing.managers: a server process
// that holds objects, and proxies (proxies.hpp) through which any process uses them.
//
// Manager() starts a SyncManager's server process ("SyncManager-1") and returns the
// manager; its dict, list, Queue, JoinableQueue, Lock, RLock, Semaphore, BoundedSemaphore,
// Condition, Event, Barrier, Value, Array and Namespace each create one object in the server
// and return its proxy. Destroying the manager (Python's `with` block ending) or calling
// shutdown() asks the server to stop, waits shutdown_timeout, then terminates and finally
// kills it. At normal exit every manager still running is shut down, after the references
// held by the process's proxies are given back. The server ignores SIGINT (a Ctrl-C meant
// for the program does not take its shared state away mid-use) and exits if its parent dies.
//
// An object lives while a proxy to it exists in any process, or a managed container holds a
// proxy to it (MGR-06). A method that raises in the server raises the same exception type in
// the caller (KeyError, RuntimeError, queue::Empty...); a failure of the machinery itself — a
// method that is not exposed, an object that is gone — is RemoteError.
//
// BaseManager is Python's, for the program's own types: a Registry names each type and the
// methods a proxy may call (C++ cannot list a class's methods, so `exposed` is the methods
// registered). With an address (host, port) and an authkey it serves other hosts: start()
// runs the server in a child process, get_server().serve_forever() in this one, and a client
// registering nothing more than it calls uses connect(). Connections prove they know the
// authkey (HMAC-SHA256 challenge both ways, listener.hpp): a wrong key is AuthenticationError
// in the client and the server goes on serving; a client without a key is refused.
//
//   namespace mp = pyconc::multiprocessing;
//   void worker(mp::managers::DictProxy<std::string, int> d) { d["seen"] = 1; }
//   int main() {
//     mp::freeze_support();
//     auto manager = mp::Manager();
//     auto d = manager.dict<std::string, int>();
//     mp::Process p(worker, d);
//     p.start();
//     p.join();
//     int seen = d["seen"];  // 1
//   }
//
// Remote use, Python's QueueManager pattern with the program's own type:
//
//   struct Counter { long n = 0; long add(long k) { return n += k; } };
//   std::shared_ptr<Counter> the_counter() { static auto c = std::make_shared<Counter>(); return c; }
//   mp::managers::Registry types;
//   types.register_factory<&the_counter>("get_counter").method<&Counter::add>("add");
//   mp::managers::BaseManager server({.address = mp::managers::Address{std::pair{"0.0.0.0", 50000}},
//                                     .authkey = "abracadabra", .registry = types});
//   server.get_server().serve_forever();
//   // elsewhere: BaseManager client({.address = ..., .authkey = "abracadabra"}); client.connect();
//   //            auto counter = client.create("get_counter"); counter.callmethod<long>("add", 1L);
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "pyconc/multiprocessing/context.hpp"
#include "pyconc/multiprocessing/pool_task.hpp"
#include "pyconc/multiprocessing/proxies.hpp"

namespace pyconc::multiprocessing::managers {

namespace detail {

// Makes the object in the server from the pickled arguments of create().
using FactoryEntry = std::shared_ptr<void> (*)(std::string_view args);
// Runs one method on the object with the pickled argument tuple; returns the pickled result.
using MethodEntry = std::string (*)(void* object, std::string_view args);

template <class T, class... Params>
std::shared_ptr<void> construct_entry(std::string_view args) {
  auto values = pickle::loads<std::tuple<std::decay_t<Params>...>>(args);
  return std::apply([](auto&... v) { return std::make_shared<T>(std::move(v)...); }, values);
}

template <class R>
struct SharedResult {
  using Object = R;
  static std::shared_ptr<void> hold(R value) { return std::make_shared<R>(std::move(value)); }
};
template <class T>
struct SharedResult<std::shared_ptr<T>> {
  using Object = T;
  static std::shared_ptr<void> hold(std::shared_ptr<T> value) { return value; }
};

template <class F>
struct FactoryTraits : std::false_type {};
template <class R, class... Params>
struct FactoryTraits<R (*)(Params...)> : std::true_type {
  using Object = typename SharedResult<R>::Object;
  using Arguments = std::tuple<std::decay_t<Params>...>;
  static constexpr bool crosses = (pickle::Picklable<std::decay_t<Params>> && ...);
};

template <auto Factory>
std::shared_ptr<void> factory_entry(std::string_view args) {
  using Traits = FactoryTraits<decltype(Factory)>;
  auto values = pickle::loads<typename Traits::Arguments>(args);
  using R = decltype(std::apply(Factory, values));
  return SharedResult<R>::hold(std::apply(Factory, std::move(values)));
}

template <class M>
struct MethodTraits : std::false_type {};
template <class C, class R, class... Params>
struct MethodTraits<R (C::*)(Params...)> : std::true_type {
  using Class = C;
  using Result = R;
  using Arguments = std::tuple<std::decay_t<Params>...>;
};
template <class C, class R, class... Params>
struct MethodTraits<R (C::*)(Params...) const> : MethodTraits<R (C::*)(Params...)> {};
template <class C, class R, class... Params>
struct MethodTraits<R (C::*)(Params...) noexcept> : MethodTraits<R (C::*)(Params...)> {};
template <class C, class R, class... Params>
struct MethodTraits<R (C::*)(Params...) const noexcept> : MethodTraits<R (C::*)(Params...)> {};

template <auto Method>
std::string method_entry(void* object, std::string_view args) {
  using Traits = MethodTraits<decltype(Method)>;
  auto& self = *static_cast<typename Traits::Class*>(object);
  auto values = pickle::loads<typename Traits::Arguments>(args);
  auto call = [&self](auto&... v) -> decltype(auto) { return (self.*Method)(v...); };
  if constexpr (std::is_void_v<typename Traits::Result>) {
    std::apply(call, values);
    return {};
  } else {
    return pickle::dumps(std::decay_t<typename Traits::Result>(std::apply(call, values)));
  }
}

struct TypeEntry {
  std::string type_id;
  FactoryEntry factory = nullptr;
  std::map<std::string, MethodEntry> methods;
};

}  // namespace detail

template <class T>
class TypeRegistration;

// Python's BaseManager._registry: the program's types a server can make, with the methods
// their proxies may call. A manager copies the registry it is given, so registering more
// later (or in another registry built from this one) changes no manager already made:
// Python's "registering on a subclass leaves the base class unchanged".
class Registry {
 public:
  // Python's register(typeid, T): create(type_id, args...) makes a T from args, which must
  // be T's constructor parameters CtorParams (picklable; the same types in the caller).
  template <class T, class... CtorParams>
  TypeRegistration<T> register_type(std::string type_id) {
    static_assert((pickle::Picklable<std::decay_t<CtorParams>> && ...),
                  "pyconc::multiprocessing::managers: constructor parameters must be picklable");
    return add<T>(std::move(type_id), &detail::construct_entry<T, CtorParams...>);
  }
  // Python's register(typeid, callable): create(type_id, args...) calls Factory, a plain
  // function of the program. It may return a T (the server holds it) or a std::shared_ptr<T>
  // (the server shares it: Python's register('get_queue', callable=lambda: queue), which
  // gives every client the same object).
  template <auto Factory>
  TypeRegistration<typename detail::FactoryTraits<decltype(Factory)>::Object> register_factory(std::string type_id) {
    using Traits = detail::FactoryTraits<decltype(Factory)>;
    static_assert(Traits::value, "pyconc::multiprocessing::managers: the factory must be a plain function");
    static_assert(Traits::crosses, "pyconc::multiprocessing::managers: the factory's parameters must be picklable");
    return add<typename Traits::Object>(std::move(type_id), &detail::factory_entry<Factory>);
  }

  bool contains(const std::string& type_id) const { return types_.count(type_id) != 0; }
  const detail::TypeEntry* find(const std::string& type_id) const;
  const std::map<std::string, detail::TypeEntry>& types() const { return types_; }
  // Internal: a type whose code a server process has resolved.
  void insert(detail::TypeEntry entry) { types_[entry.type_id] = std::move(entry); }

 private:
  template <class T>
  friend class TypeRegistration;
  template <class T>
  TypeRegistration<T> add(std::string type_id, detail::FactoryEntry factory);
  std::map<std::string, detail::TypeEntry> types_;
};

// What register_type returns: name the methods a proxy may call, Python's `exposed`.
template <class T>
class TypeRegistration {
 public:
  TypeRegistration(Registry& registry, std::string type_id) : registry_(registry), type_id_(std::move(type_id)) {}
  // Exposes Method (a member function of T, or of a base of T) under `name`; its parameters
  // and result must be picklable.
  template <auto Method>
  TypeRegistration& method(std::string name) {
    using Traits = detail::MethodTraits<decltype(Method)>;
    static_assert(Traits::value, "pyconc::multiprocessing::managers: method<&T::f> takes a member function");
    static_assert(std::is_base_of_v<typename Traits::Class, T>,
                  "pyconc::multiprocessing::managers: the method belongs to another class");
    registry_.types_.at(type_id_).methods[std::move(name)] = &detail::method_entry<Method>;
    return *this;
  }

 private:
  Registry& registry_;
  std::string type_id_;
};

template <class T>
TypeRegistration<T> Registry::add(std::string type_id, detail::FactoryEntry factory) {
  detail::TypeEntry entry{type_id, factory, {}};
  types_[type_id] = std::move(entry);
  return TypeRegistration<T>(*this, std::move(type_id));
}

struct ManagerOptions {
  // Where the server listens: none for a fresh Unix socket path (Python's default), a path,
  // or (host, port) for TCP (port 0: any free port; address() says which).
  std::optional<Address> address;
  // The key connections must prove they know; none: this process's authkey, which child
  // processes inherit.
  std::optional<std::string> authkey;
  Registry registry;
  // The start method of the server process; none: the default context's.
  std::optional<Context> context;
  // How long shutdown() waits for the server to stop before terminating it.
  double shutdown_timeout = 1.0;
};

namespace detail {
class ServerCore;
struct ManagerState;
}  // namespace detail

// Python's managers.Server: serves a registry's objects at an address, in this process.
class Server {
 public:
  Server(const Registry& registry, std::optional<Address> address, std::string authkey);
  const Address& address() const;
  // Serves until stop() is called (from another thread, or a registered method), then stops
  // listening and closes the clients' connections.
  void serve_forever();
  void stop();

 private:
  std::shared_ptr<detail::ServerCore> core_;
};

class BaseManager {
 public:
  explicit BaseManager(ManagerOptions options = {});
  // Shuts the server down when this manager started it.
  virtual ~BaseManager();
  BaseManager(BaseManager&&) noexcept;
  BaseManager& operator=(BaseManager&&) noexcept;

  // Starts the server process (Python's start(initializer, initargs): the initializer runs
  // in it first). ProcessError "Already started server" when started; "Manager has shut
  // down" after shutdown.
  void start(Initializer initializer = {});
  // Uses a server started elsewhere, at options.address.
  void connect();
  // Stops a server this manager started; repeated calls do nothing. A manager that only
  // connected stops nothing (Python's: only the starter has the process).
  void shutdown();
  // A server for this manager's registry, address and authkey, to run in this process.
  Server get_server() const;
  const Address& address() const;
  // Python's manager.typeid(*args): makes an object of a registered type in the server and
  // returns its proxy (BaseProxy, or a subclass written for the type, as Python's proxytype).
  template <class Proxy = BaseProxy, class... Args>
  Proxy create(const std::string& type_id, const Args&... args) {
    static_assert(std::is_base_of_v<BaseProxy, Proxy>, "create<Proxy>: Proxy must derive from BaseProxy");
    return Proxy(make_object(type_id, {detail::argument(address(), std::tuple<Args...>(args...))}));
  }
  // Python's _number_of_objects(): how many objects the server holds for proxies.
  std::size_t number_of_objects() const;
  // The server process (empty before start(), and for a manager that only connected).
  std::optional<Process> process() const;

 protected:
  BaseManager(ManagerOptions options, std::string kind);
  std::shared_ptr<detail::ProxyState> make_object(const std::string& type_id, std::vector<detail::Argument> args);
  template <class... Args>
  std::shared_ptr<detail::ProxyState> make_builtin(const std::string& type_id, const Args&... args) {
    return make_object(type_id, {detail::argument(address(), args)...});
  }

 private:
  std::unique_ptr<detail::ManagerState> state_;
};

// Python's SyncManager: the built-in shared types.
class SyncManager : public BaseManager {
 public:
  explicit SyncManager(ManagerOptions options = {}) : BaseManager(std::move(options), "SyncManager") {}

  template <class K, class V>
  DictProxy<K, V> dict(const std::vector<std::pair<K, V>>& items = {}) {
    std::vector<detail::Argument> args;
    for (const auto& [key, value] : items) {
      args.push_back(detail::argument(address(), key));
      args.push_back(detail::argument(address(), value));
    }
    return DictProxy<K, V>(make_object("dict", std::move(args)));
  }
  template <class T>
  ListProxy<T> list(const std::vector<T>& values = {}) {
    return ListProxy<T>(make_object("list", arguments(values)));
  }
  template <class T>
  QueueProxy<T> Queue(std::int64_t maxsize = 0) {
    return QueueProxy<T>(make_builtin("Queue", maxsize));
  }
  template <class T>
  QueueProxy<T> JoinableQueue(std::int64_t maxsize = 0) {
    return QueueProxy<T>(make_builtin("JoinableQueue", maxsize));
  }
  AcquirerProxy Lock() { return AcquirerProxy(make_builtin("Lock")); }
  AcquirerProxy RLock() { return AcquirerProxy(make_builtin("RLock")); }
  AcquirerProxy Semaphore(std::int64_t value = 1) { return AcquirerProxy(make_builtin("Semaphore", value)); }
  AcquirerProxy BoundedSemaphore(std::int64_t value = 1) {
    return AcquirerProxy(make_builtin("BoundedSemaphore", value));
  }
  ConditionProxy Condition() { return ConditionProxy(make_builtin("Condition")); }
  EventProxy Event() { return EventProxy(make_builtin("Event")); }
  BarrierProxy Barrier(std::int64_t parties) { return BarrierProxy(make_builtin("Barrier", parties)); }
  template <class T>
  ValueProxy<T> Value(const T& value) {
    return ValueProxy<T>(make_builtin("Value", value));
  }
  template <class T>
  ArrayProxy<T> Array(const std::vector<T>& values) {
    return ArrayProxy<T>(make_object("Array", arguments(values)));
  }
  NamespaceProxy Namespace() { return NamespaceProxy(make_builtin("Namespace")); }

 private:
  template <class T>
  std::vector<detail::Argument> arguments(const std::vector<T>& values) {
    std::vector<detail::Argument> args;
    for (const auto& value : values) args.push_back(detail::argument(address(), value));
    return args;
  }
};

// Python's multiprocessing.Manager(): a started SyncManager.
SyncManager Manager(ManagerOptions options = {});

}  // namespace pyconc::multiprocessing::managers

namespace pyconc::multiprocessing {
using managers::Manager;
using managers::SyncManager;
}  // namespace pyconc::multiprocessing
