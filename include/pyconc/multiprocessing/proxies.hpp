// pyconc::multiprocessing::managers proxies — Python's BaseProxy and the proxies a
// SyncManager hands out (DictProxy, ListProxy, ValueProxy, ArrayProxy, NamespaceProxy, the
// queue proxy, AcquirerProxy, ConditionProxy, EventProxy, BarrierProxy).
//
// A proxy is a handle to one object held by a manager's server process: every call is a
// request to that server, run on that one object, so a change made through any proxy, in any
// process, is seen through all of them. Copies of a proxy share one handle; a proxy crosses
// to another process (a Process argument, an item of a multiprocessing Queue, a value stored
// in another managed container) and reconnects there with that process's authkey.
//
// Python's rules, the same here (MGR-05): only calls through a proxy are shared. A value read
// out of a proxy is a local copy: `auto v = l.getitem(0); v.push_back(1);` changes nothing in
// the server until it is stored back (`l.setitem(0, v)`). `v.set(v.get() + 1)` is two
// requests, not atomic: hold a manager Lock around it. Store a proxy in a container to share
// the inner object (`d["k"] = manager.dict<...>()`, then `d["k"]["x"] = 1` updates it).
//
// The server keeps the values of dict, list, Value, Array and Namespace as pickled bytes; it
// never needs the program's types. Keys are equal when their pickled bytes are (the same
// for every type whose equal values pickle alike: integers, strings, tuples of them...; not
// for floating-point -0.0 and 0.0).
//
//   auto manager = pyconc::multiprocessing::Manager();
//   auto d = manager.dict<std::string, int>();
//   d["apples"] = 3;                 // __setitem__ in the server
//   int n = d["apples"];             // __getitem__: 3
//   d.getitem("pears");              // KeyError, raised in the server, re-raised here
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "pyconc/multiprocessing/manager_protocol.hpp"
#include "pyconc/timeout.hpp"

namespace pyconc::multiprocessing::managers {

class BaseProxy {
 public:
  BaseProxy() = default;  // refers to nothing: a call raises ValueError
  explicit BaseProxy(std::shared_ptr<detail::ProxyState> state) : state_(std::move(state)) {}

  explicit operator bool() const { return state_ != nullptr; }
  const Token& token() const { return state().token(); }
  // Python's repr: "<DictProxy object, typeid 'dict' at ...>".
  std::string repr() const;

  // Python's _callmethod(name, args): runs `method` of the object in the server, for a
  // registered type (Registry::register_type). The arguments cross as one tuple of their
  // types, which must be the method's parameter types (UnpicklingError otherwise, raised in
  // the server and re-raised here); R is the method's result type.
  template <class R = void, class... A>
  R callmethod(const std::string& method, const A&... args) const {
    const auto reply = call(method, {argument(std::tuple<A...>(args...))});
    if constexpr (!std::is_void_v<R>) return result<R>(reply);
  }

  // Pickling (cereal): the token, carrying a reference for the process that unpickles it.
  template <class Archive>
  void save(Archive& archive) const {
    archive(detail::share(state_));
  }
  template <class Archive>
  void load(Archive& archive) {
    Token token;
    archive(token);
    state_ = detail::adopt(std::move(token));
  }

 protected:
  const detail::ProxyState& state() const;
  template <class T>
  detail::Argument argument(const T& value) const {
    return detail::argument(state().token().address, value);
  }
  detail::Reply call(const std::string& method, const std::vector<detail::Argument>& args = {}) const;
  // `method` with each argument pickled on its own (the built-in objects' form).
  template <class... A>
  detail::Reply invoke(const std::string& method, const A&... args) const {
    return call(method, {argument(args)...});
  }
  template <class R>
  static R result(const detail::Reply& reply, std::size_t index = 0) {
    return pickle::loads<R>(reply.values.at(index));
  }
  template <class R>
  static std::vector<R> results(const detail::Reply& reply, std::size_t from = 0, std::size_t step = 1) {
    std::vector<R> out;
    for (std::size_t i = from; i < reply.values.size(); i += step) out.push_back(pickle::loads<R>(reply.values[i]));
    return out;
  }
  // A timeout as it crosses: seconds, or none for forever.
  static std::optional<double> seconds(Timeout timeout) {
    if (timeout.is_forever()) return std::nullopt;
    return std::chrono::duration<double>(timeout.duration()).count();
  }

 private:
  std::shared_ptr<detail::ProxyState> state_;
};

// `proxy[key]`: reads with __getitem__, assigns with __setitem__. It holds a copy of the
// proxy, so `d["k"]["x"] = 1` works when the values are proxies themselves.
template <class Proxy, class Key, class Value>
class ItemRef {
 public:
  ItemRef(Proxy proxy, Key key) : proxy_(std::move(proxy)), key_(std::move(key)) {}
  const ItemRef& operator=(const Value& value) const {
    proxy_.setitem(key_, value);
    return *this;
  }
  operator Value() const { return get(); }  // NOLINT: reads like Python's d[k]
  Value get() const { return proxy_.getitem(key_); }
  template <class K>
  auto operator[](K&& key) const {
    return get()[std::forward<K>(key)];
  }

 private:
  Proxy proxy_;
  Key key_;
};

// Python's DictProxy: a dict in the server, in insertion order.
template <class K, class V>
class DictProxy : public BaseProxy {
 public:
  using BaseProxy::BaseProxy;  // no mapped_type member: cereal would take it for a std::map

  V getitem(const K& key) const { return result<V>(invoke("__getitem__", key)); }  // KeyError
  void setitem(const K& key, const V& value) const { invoke("__setitem__", key, value); }
  void delitem(const K& key) const { invoke("__delitem__", key); }  // KeyError
  ItemRef<DictProxy, K, V> operator[](K key) const { return {*this, std::move(key)}; }
  bool contains(const K& key) const { return result<bool>(invoke("__contains__", key)); }
  std::size_t len() const { return result<std::uint64_t>(invoke("__len__")); }
  std::optional<V> get(const K& key) const {
    auto values = results<V>(invoke("get", key));
    return values.empty() ? std::nullopt : std::optional<V>(std::move(values.front()));
  }
  V get(const K& key, const V& fallback) const { return get(key).value_or(fallback); }
  V pop(const K& key) const { return result<V>(invoke("pop", key)); }  // KeyError
  V pop(const K& key, const V& fallback) const { return result<V>(invoke("pop", key, fallback)); }
  std::pair<K, V> popitem() const {  // the last inserted; KeyError when empty
    auto reply = invoke("popitem");
    return {result<K>(reply, 0), result<V>(reply, 1)};
  }
  V setdefault(const K& key, const V& fallback) const { return result<V>(invoke("setdefault", key, fallback)); }
  template <class Pairs = std::vector<std::pair<K, V>>>
  void update(const Pairs& pairs) const {
    std::vector<detail::Argument> args;
    for (const auto& [key, value] : pairs) {
      args.push_back(argument(K(key)));
      args.push_back(argument(V(value)));
    }
    call("update", args);
  }
  void clear() const { invoke("clear"); }
  std::vector<K> keys() const { return results<K>(invoke("keys")); }
  std::vector<V> values() const { return results<V>(invoke("values")); }
  std::vector<std::pair<K, V>> items() const {
    auto reply = invoke("items");
    std::vector<std::pair<K, V>> out;
    for (std::size_t i = 0; i + 1 < reply.values.size(); i += 2)
      out.emplace_back(result<K>(reply, i), result<V>(reply, i + 1));
    return out;
  }
};

// Python's ListProxy. Indexes may be negative (counted from the end); out of range is
// IndexError, as Python's list says it.
template <class T>
class ListProxy : public BaseProxy {
 public:
  using BaseProxy::BaseProxy;

  T getitem(std::int64_t index) const { return result<T>(invoke("__getitem__", index)); }
  void setitem(std::int64_t index, const T& value) const { invoke("__setitem__", index, value); }
  void delitem(std::int64_t index) const { invoke("__delitem__", index); }
  ItemRef<ListProxy, std::int64_t, T> operator[](std::int64_t index) const { return {*this, index}; }
  std::size_t len() const { return result<std::uint64_t>(invoke("__len__")); }
  bool contains(const T& value) const { return result<bool>(invoke("__contains__", value)); }
  void append(const T& value) const { invoke("append", value); }
  template <class Range = std::vector<T>>
  void extend(const Range& values) const {
    std::vector<detail::Argument> args;
    for (const auto& value : values) args.push_back(argument(T(value)));
    call("extend", args);
  }
  const ListProxy& operator+=(const std::vector<T>& values) const {
    extend(values);
    return *this;
  }
  void insert(std::int64_t index, const T& value) const { invoke("insert", index, value); }
  T pop(std::int64_t index = -1) const { return result<T>(invoke("pop", index)); }  // IndexError
  void remove(const T& value) const { invoke("remove", value); }                      // ValueError
  std::size_t index(const T& value) const { return result<std::uint64_t>(invoke("index", value)); }
  std::size_t count(const T& value) const { return result<std::uint64_t>(invoke("count", value)); }
  void reverse() const { invoke("reverse"); }
  void clear() const { invoke("clear"); }
  // A local copy of the whole list (Python: list(proxy) or proxy[:]).
  std::vector<T> copy() const { return results<T>(invoke("copy")); }
};

// Python's ValueProxy: get(), set(), and .value (value() / set_value() here).
template <class T>
class ValueProxy : public BaseProxy {
 public:
  using BaseProxy::BaseProxy;
  T get() const { return result<T>(invoke("get")); }
  void set(const T& value) const { invoke("set", value); }
  T value() const { return get(); }
  void set_value(const T& value) const { set(value); }
};

// Python's ArrayProxy: a fixed-length sequence (len, getitem, setitem).
template <class T>
class ArrayProxy : public BaseProxy {
 public:
  using BaseProxy::BaseProxy;
  T getitem(std::int64_t index) const { return result<T>(invoke("__getitem__", index)); }
  void setitem(std::int64_t index, const T& value) const { invoke("__setitem__", index, value); }
  ItemRef<ArrayProxy, std::int64_t, T> operator[](std::int64_t index) const { return {*this, index}; }
  std::size_t len() const { return result<std::uint64_t>(invoke("__len__")); }
  std::vector<T> copy() const { return results<T>(invoke("copy")); }
};

// Python's NamespaceProxy: attributes by name. get<T>(name) raises AttributeError for a name
// not set. Names that start with '_' stay on this proxy object, as in Python: not shared,
// not pickled.
class NamespaceProxy : public BaseProxy {
 public:
  using BaseProxy::BaseProxy;
  template <class T>
  T get(const std::string& name) const {
    if (is_local(name)) return pickle::loads<T>(local(name));
    return result<T>(invoke("__getattribute__", name));
  }
  template <class T>
  void set(const std::string& name, const T& value) {
    if (is_local(name)) {
      local_[name] = pickle::dumps(value);
      return;
    }
    invoke("__setattr__", name, value);
  }
  void del(const std::string& name);
  bool has(const std::string& name) const;
  // The shared attribute names, in the order they were first set.
  std::vector<std::string> names() const { return results<std::string>(invoke("__dir__")); }

 private:
  static bool is_local(const std::string& name) { return !name.empty() && name[0] == '_'; }
  const std::string& local(const std::string& name) const;
  std::map<std::string, std::string> local_;
};

// Python's queue proxy (manager.Queue(), manager.JoinableQueue()): a queue.Queue in the
// server, with its put/get/timeout/Full/Empty rules and task_done/join.
template <class T>
class QueueProxy : public BaseProxy {
 public:
  using BaseProxy::BaseProxy;
  void put(const T& item, bool block = true, Timeout timeout = forever) const {
    invoke("put", item, block, seconds(timeout));
  }
  void put_nowait(const T& item) const { put(item, false); }
  T get(bool block = true, Timeout timeout = forever) const { return result<T>(invoke("get", block, seconds(timeout))); }
  T get_nowait() const { return get(false); }
  std::size_t qsize() const { return result<std::uint64_t>(invoke("qsize")); }
  bool empty() const { return result<bool>(invoke("empty")); }
  bool full() const { return result<bool>(invoke("full")); }
  void task_done() const { invoke("task_done"); }
  void join() const { invoke("join"); }
};

// Python's AcquirerProxy, for manager.Lock(), RLock(), Semaphore(), BoundedSemaphore(). An
// RLock is owned by the calling thread: each client thread has its own connection, served by
// its own server thread. lock()/unlock() let std::scoped_lock hold it (Python's `with`).
class AcquirerProxy : public BaseProxy {
 public:
  using BaseProxy::BaseProxy;
  bool acquire(bool blocking = true, Timeout timeout = forever) const {
    return result<bool>(invoke("acquire", blocking, seconds(timeout)));
  }
  void release() const { invoke("release"); }  // RuntimeError for a lock not held
  void lock() const { acquire(); }
  bool try_lock() const { return acquire(false); }
  void unlock() const { release(); }
};

// Python's ConditionProxy (manager.Condition()); wait_for runs its predicate here, between
// waits, as Python's does.
class ConditionProxy : public AcquirerProxy {
 public:
  using AcquirerProxy::AcquirerProxy;
  bool wait(Timeout timeout = forever) const { return result<bool>(invoke("wait", seconds(timeout))); }
  bool wait_for(const std::function<bool()>& predicate, Timeout timeout = forever) const;
  void notify(std::size_t n = 1) const { invoke("notify", static_cast<std::uint64_t>(n)); }
  void notify_all() const { invoke("notify_all"); }
};

// Python's EventProxy (manager.Event()).
class EventProxy : public BaseProxy {
 public:
  using BaseProxy::BaseProxy;
  bool is_set() const { return result<bool>(invoke("is_set")); }
  void set() const { invoke("set"); }
  void clear() const { invoke("clear"); }
  bool wait(Timeout timeout = forever) const { return result<bool>(invoke("wait", seconds(timeout))); }
};

// Python's BarrierProxy (manager.Barrier(parties)).
class BarrierProxy : public BaseProxy {
 public:
  using BaseProxy::BaseProxy;
  std::int64_t wait(Timeout timeout = forever) const { return result<std::int64_t>(invoke("wait", seconds(timeout))); }
  void abort() const { invoke("abort"); }
  void reset() const { invoke("reset"); }
  std::int64_t parties() const { return result<std::int64_t>(invoke("parties")); }
  std::int64_t n_waiting() const { return result<std::int64_t>(invoke("n_waiting")); }
  bool broken() const { return result<bool>(invoke("broken")); }
};

}  // namespace pyconc::multiprocessing::managers
