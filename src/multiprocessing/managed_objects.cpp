// The objects a SyncManager's server holds: containers of pickled values (dict, list, Array,
// Value, Namespace), a queue.Queue of them, and threading's locks, Condition, Event and
// Barrier. Each method is named as Python's proxy calls it ("__getitem__", "append"...).
#include <chrono>
#include <list>
#include <mutex>
#include <string_view>
#include <unordered_map>

#include "manager_server.hpp"
#include "pyconc/queue.hpp"
#include "pyconc/threading.hpp"

namespace pyconc::multiprocessing::managers::detail {

namespace {

// Each object's methods by name.
template <class Object>
using Methods = std::unordered_map<std::string_view, void (Object::*)(Call&)>;

template <class Object>
void run_method(Object& self, const Methods<Object>& methods, const std::string& method, Call& call) {
  const auto it = methods.find(method);
  if (it == methods.end()) self.refuse(method);
  (self.*(it->second))(call);
}

// A subclass's methods run with `Object`'s name table.
template <class Object>
class Served : public ManagedObject {
 public:
  using ManagedObject::ManagedObject;
  void call(const std::string& method, Call& call) override {
    run_method(static_cast<Object&>(*this), Object::methods(), method, call);
  }
  [[noreturn]] void refuse(const std::string& method) const { not_exposed(method); }
};

Timeout timeout_of(const std::optional<double>& seconds) {
  if (!seconds) return forever;
  return std::chrono::duration<double>(*seconds);
}

// Python's index rule: negative counts from the end; out of range is IndexError.
std::size_t position(std::int64_t index, std::size_t size, const char* message) {
  const auto n = static_cast<std::int64_t>(size);
  if (index < 0) index += n;
  if (index < 0 || index >= n) throw IndexError(message);
  return static_cast<std::size_t>(index);
}

class DictObject : public Served<DictObject> {
 public:
  explicit DictObject(Call& call) : Served("dict") {
    for (std::size_t i = 0; i + 1 < call.size(); i += 2) assign(call.stored(i), call.stored(i + 1));
  }
  static const Methods<DictObject>& methods() {
    static const Methods<DictObject> table{
        {"__getitem__", &DictObject::getitem}, {"__setitem__", &DictObject::setitem},
        {"__delitem__", &DictObject::delitem}, {"__contains__", &DictObject::contains},
        {"__len__", &DictObject::len},         {"get", &DictObject::get},
        {"pop", &DictObject::pop},             {"popitem", &DictObject::popitem},
        {"setdefault", &DictObject::setdefault}, {"update", &DictObject::update},
        {"clear", &DictObject::clear},         {"keys", &DictObject::keys},
        {"values", &DictObject::values},       {"items", &DictObject::items}};
    return table;
  }

 private:
  using Items = std::list<std::pair<Stored, Stored>>;

  Items::iterator find(const std::string& key) {
    const auto it = index_.find(key);
    return it == index_.end() ? items_.end() : it->second;
  }
  Items::iterator existing(const std::string& key) {
    const auto it = find(key);
    if (it == items_.end()) throw KeyError("key not in the managed dict");
    return it;
  }
  void assign(Stored key, Stored value) {
    if (auto it = find(key.bytes); it != items_.end()) {
      it->second = std::move(value);
      return;
    }
    const std::string bytes = key.bytes;
    items_.emplace_back(std::move(key), std::move(value));
    index_[bytes] = std::prev(items_.end());
  }
  Stored take(Items::iterator it) {
    Stored value = std::move(it->second);
    index_.erase(it->first.bytes);
    items_.erase(it);
    return value;
  }

  void getitem(Call& c) {
    std::scoped_lock hold(lock_);
    c.give(existing(c.bytes(0))->second);
  }
  void setitem(Call& c) {
    std::scoped_lock hold(lock_);
    assign(c.stored(0), c.stored(1));
  }
  void delitem(Call& c) {
    std::scoped_lock hold(lock_);
    take(existing(c.bytes(0)));
  }
  void contains(Call& c) {
    std::scoped_lock hold(lock_);
    c.give_value(find(c.bytes(0)) != items_.end());
  }
  void len(Call& c) {
    std::scoped_lock hold(lock_);
    c.give_value(static_cast<std::uint64_t>(items_.size()));
  }
  void get(Call& c) {  // no value given back when the key is missing
    std::scoped_lock hold(lock_);
    if (auto it = find(c.bytes(0)); it != items_.end()) c.give(it->second);
  }
  void pop(Call& c) {
    std::scoped_lock hold(lock_);
    const auto it = find(c.bytes(0));
    if (it == items_.end() && c.size() > 1) return c.give(c.stored(1));
    if (it == items_.end()) throw KeyError("key not in the managed dict");
    c.give(take(it));
  }
  void popitem(Call& c) {
    std::scoped_lock hold(lock_);
    if (items_.empty()) throw KeyError("popitem(): dictionary is empty");
    const auto last = std::prev(items_.end());
    c.give(last->first);
    c.give(take(last));
  }
  void setdefault(Call& c) {
    std::scoped_lock hold(lock_);
    if (find(c.bytes(0)) == items_.end()) assign(c.stored(0), c.stored(1));
    c.give(find(c.bytes(0))->second);
  }
  void update(Call& c) {
    std::scoped_lock hold(lock_);
    for (std::size_t i = 0; i + 1 < c.size(); i += 2) assign(c.stored(i), c.stored(i + 1));
  }
  void clear(Call&) {
    std::scoped_lock hold(lock_);
    index_.clear();
    items_.clear();
  }
  void keys(Call& c) {
    std::scoped_lock hold(lock_);
    for (auto& [key, value] : items_) c.give(key);
  }
  void values(Call& c) {
    std::scoped_lock hold(lock_);
    for (auto& [key, value] : items_) c.give(value);
  }
  void items(Call& c) {
    std::scoped_lock hold(lock_);
    for (auto& [key, value] : items_) {
      c.give(key);
      c.give(value);
    }
  }

  std::mutex lock_;
  Items items_;
  std::unordered_map<std::string, Items::iterator> index_;
};

// list and Array: a sequence of values; an Array's length is fixed.
class ListObject : public Served<ListObject> {
 public:
  ListObject(std::string type_id, Call& call) : Served(std::move(type_id)) {
    for (std::size_t i = 0; i < call.size(); ++i) items_.push_back(call.stored(i));
  }
  static const Methods<ListObject>& methods() {
    static const Methods<ListObject> table{
        {"__getitem__", &ListObject::getitem}, {"__setitem__", &ListObject::setitem},
        {"__delitem__", &ListObject::delitem}, {"__len__", &ListObject::len},
        {"__contains__", &ListObject::contains}, {"append", &ListObject::append},
        {"extend", &ListObject::extend},       {"insert", &ListObject::insert},
        {"pop", &ListObject::pop},             {"remove", &ListObject::remove},
        {"index", &ListObject::index},         {"count", &ListObject::count},
        {"reverse", &ListObject::reverse},     {"clear", &ListObject::clear},
        {"copy", &ListObject::copy}};
    return table;
  }
  void call(const std::string& method, Call& call) override {
    if (type_id() == "Array" && !array_method(method)) refuse(method);
    Served::call(method, call);
  }

 private:
  static bool array_method(std::string_view method) {
    return method == "__getitem__" || method == "__setitem__" || method == "__len__" || method == "copy";
  }
  std::vector<Stored>::iterator find(const std::string& bytes) {
    return std::find_if(items_.begin(), items_.end(), [&](const Stored& s) { return s.bytes == bytes; });
  }

  void getitem(Call& c) {
    std::scoped_lock hold(lock_);
    c.give(items_[position(c.scalar<std::int64_t>(0), items_.size(), "list index out of range")]);
  }
  void setitem(Call& c) {
    std::scoped_lock hold(lock_);
    items_[position(c.scalar<std::int64_t>(0), items_.size(), "list assignment index out of range")] = c.stored(1);
  }
  void delitem(Call& c) {
    std::scoped_lock hold(lock_);
    const auto at = position(c.scalar<std::int64_t>(0), items_.size(), "list assignment index out of range");
    items_.erase(items_.begin() + static_cast<std::ptrdiff_t>(at));
  }
  void len(Call& c) {
    std::scoped_lock hold(lock_);
    c.give_value(static_cast<std::uint64_t>(items_.size()));
  }
  void contains(Call& c) {
    std::scoped_lock hold(lock_);
    c.give_value(find(c.bytes(0)) != items_.end());
  }
  void append(Call& c) {
    std::scoped_lock hold(lock_);
    items_.push_back(c.stored(0));
  }
  void extend(Call& c) {
    std::scoped_lock hold(lock_);
    for (std::size_t i = 0; i < c.size(); ++i) items_.push_back(c.stored(i));
  }
  void insert(Call& c) {  // Python clamps the index instead of failing
    std::scoped_lock hold(lock_);
    const auto n = static_cast<std::int64_t>(items_.size());
    std::int64_t at = c.scalar<std::int64_t>(0);
    if (at < 0) at = std::max<std::int64_t>(0, at + n);
    items_.insert(items_.begin() + std::min(at, n), c.stored(1));
  }
  void pop(Call& c) {
    std::scoped_lock hold(lock_);
    if (items_.empty()) throw IndexError("pop from empty list");
    const auto at = position(c.scalar<std::int64_t>(0), items_.size(), "pop index out of range");
    c.give(items_[at]);
    items_.erase(items_.begin() + static_cast<std::ptrdiff_t>(at));
  }
  void remove(Call& c) {
    std::scoped_lock hold(lock_);
    const auto it = find(c.bytes(0));
    if (it == items_.end()) throw ValueError("list.remove(x): x not in list");
    items_.erase(it);
  }
  void index(Call& c) {
    std::scoped_lock hold(lock_);
    const auto it = find(c.bytes(0));
    if (it == items_.end()) throw ValueError("list.index(x): x not in list");
    c.give_value(static_cast<std::uint64_t>(it - items_.begin()));
  }
  void count(Call& c) {
    std::scoped_lock hold(lock_);
    const std::string& bytes = c.bytes(0);
    c.give_value(static_cast<std::uint64_t>(
        std::count_if(items_.begin(), items_.end(), [&](const Stored& s) { return s.bytes == bytes; })));
  }
  void reverse(Call&) {
    std::scoped_lock hold(lock_);
    std::reverse(items_.begin(), items_.end());
  }
  void clear(Call&) {
    std::scoped_lock hold(lock_);
    items_.clear();
  }
  void copy(Call& c) {
    std::scoped_lock hold(lock_);
    for (auto& item : items_) c.give(item);
  }

  std::mutex lock_;
  std::vector<Stored> items_;
};

class ValueObject : public Served<ValueObject> {
 public:
  explicit ValueObject(Call& call) : Served("Value"), value_(call.stored(0)) {}
  static const Methods<ValueObject>& methods() {
    static const Methods<ValueObject> table{{"get", &ValueObject::get}, {"set", &ValueObject::set}};
    return table;
  }

 private:
  void get(Call& c) {
    std::scoped_lock hold(lock_);
    c.give(value_);
  }
  void set(Call& c) {
    Stored value = c.stored(0);
    std::scoped_lock hold(lock_);
    std::swap(value_, value);
  }
  std::mutex lock_;
  Stored value_;
};

class NamespaceObject : public Served<NamespaceObject> {
 public:
  explicit NamespaceObject(Call&) : Served("Namespace") {}
  static const Methods<NamespaceObject>& methods() {
    static const Methods<NamespaceObject> table{{"__getattribute__", &NamespaceObject::getattr},
                                                {"__setattr__", &NamespaceObject::setattr},
                                                {"__delattr__", &NamespaceObject::delattr},
                                                {"__contains__", &NamespaceObject::contains},
                                                {"__dir__", &NamespaceObject::dir}};
    return table;
  }

 private:
  std::vector<std::pair<std::string, Stored>>::iterator find(const std::string& name) {
    return std::find_if(attributes_.begin(), attributes_.end(), [&](const auto& a) { return a.first == name; });
  }
  std::vector<std::pair<std::string, Stored>>::iterator existing(const std::string& name) {
    const auto it = find(name);
    if (it == attributes_.end()) throw AttributeError("'Namespace' object has no attribute '" + name + "'");
    return it;
  }
  void getattr(Call& c) {
    std::scoped_lock hold(lock_);
    c.give(existing(c.scalar<std::string>(0))->second);
  }
  void setattr(Call& c) {
    const auto name = c.scalar<std::string>(0);
    std::scoped_lock hold(lock_);
    if (auto it = find(name); it != attributes_.end()) {
      it->second = c.stored(1);
    } else {
      attributes_.emplace_back(name, c.stored(1));
    }
  }
  void delattr(Call& c) {
    std::scoped_lock hold(lock_);
    attributes_.erase(existing(c.scalar<std::string>(0)));
  }
  void contains(Call& c) {
    std::scoped_lock hold(lock_);
    c.give_value(find(c.scalar<std::string>(0)) != attributes_.end());
  }
  void dir(Call& c) {
    std::scoped_lock hold(lock_);
    for (auto& attribute : attributes_) c.give_value(attribute.first);
  }
  std::mutex lock_;
  std::vector<std::pair<std::string, Stored>> attributes_;
};

// Queue and JoinableQueue: Python's manager gives queue.Queue for both.
class QueueObject : public Served<QueueObject> {
 public:
  QueueObject(std::string type_id, Call& call)
      : Served(std::move(type_id)), queue_(call.size() ? call.scalar<std::int64_t>(0) : 0) {}
  static const Methods<QueueObject>& methods() {
    static const Methods<QueueObject> table{
        {"put", &QueueObject::put},     {"get", &QueueObject::get},   {"qsize", &QueueObject::qsize},
        {"empty", &QueueObject::empty}, {"full", &QueueObject::full}, {"task_done", &QueueObject::task_done},
        {"join", &QueueObject::join}};
    return table;
  }

 private:
  void put(Call& c) {
    queue_.put(c.stored(0), c.scalar<bool>(1), timeout_of(c.scalar<std::optional<double>>(2)));
  }
  void get(Call& c) { c.give(queue_.get(c.scalar<bool>(0), timeout_of(c.scalar<std::optional<double>>(1)))); }
  void qsize(Call& c) { c.give_value(static_cast<std::uint64_t>(queue_.qsize())); }
  void empty(Call& c) { c.give_value(queue_.empty()); }
  void full(Call& c) { c.give_value(queue_.full()); }
  void task_done(Call&) { queue_.task_done(); }
  void join(Call&) { queue_.join(); }
  queue::Queue<Stored> queue_;
};

// Lock, RLock, Semaphore and BoundedSemaphore: what an AcquirerProxy calls.
template <class Primitive>
class AcquirerObject : public Served<AcquirerObject<Primitive>> {
 public:
  template <class... Args>
  AcquirerObject(std::string type_id, Args... args) : Served<AcquirerObject>(std::move(type_id)), primitive_(args...) {}
  static const Methods<AcquirerObject>& methods() {
    static const Methods<AcquirerObject> table{{"acquire", &AcquirerObject::acquire},
                                               {"release", &AcquirerObject::release}};
    return table;
  }

 private:
  void acquire(Call& c) {
    c.give_value(primitive_.acquire(c.scalar<bool>(0), timeout_of(c.scalar<std::optional<double>>(1))));
  }
  void release(Call&) { primitive_.release(); }
  Primitive primitive_;
};

class ConditionObject : public Served<ConditionObject> {
 public:
  ConditionObject() : Served("Condition") {}
  static const Methods<ConditionObject>& methods() {
    static const Methods<ConditionObject> table{
        {"acquire", &ConditionObject::acquire}, {"release", &ConditionObject::release},
        {"wait", &ConditionObject::wait},       {"notify", &ConditionObject::notify},
        {"notify_all", &ConditionObject::notify_all}};
    return table;
  }

 private:
  void acquire(Call& c) {
    c.give_value(condition_.acquire(c.scalar<bool>(0), timeout_of(c.scalar<std::optional<double>>(1))));
  }
  void release(Call&) { condition_.release(); }
  void wait(Call& c) { c.give_value(condition_.wait(timeout_of(c.scalar<std::optional<double>>(0)))); }
  void notify(Call& c) { condition_.notify(c.scalar<std::uint64_t>(0)); }
  void notify_all(Call&) { condition_.notify_all(); }
  threading::Condition condition_;
};

class EventObject : public Served<EventObject> {
 public:
  EventObject() : Served("Event") {}
  static const Methods<EventObject>& methods() {
    static const Methods<EventObject> table{{"is_set", &EventObject::is_set},
                                            {"set", &EventObject::set},
                                            {"clear", &EventObject::clear},
                                            {"wait", &EventObject::wait}};
    return table;
  }

 private:
  void is_set(Call& c) { c.give_value(event_.is_set()); }
  void set(Call&) { event_.set(); }
  void clear(Call&) { event_.clear(); }
  void wait(Call& c) { c.give_value(event_.wait(timeout_of(c.scalar<std::optional<double>>(0)))); }
  threading::Event event_;
};

class BarrierObject : public Served<BarrierObject> {
 public:
  explicit BarrierObject(std::int64_t parties) : Served("Barrier"), barrier_(parties) {}
  static const Methods<BarrierObject>& methods() {
    static const Methods<BarrierObject> table{
        {"wait", &BarrierObject::wait},           {"abort", &BarrierObject::abort},
        {"reset", &BarrierObject::reset},         {"parties", &BarrierObject::parties},
        {"n_waiting", &BarrierObject::n_waiting}, {"broken", &BarrierObject::broken}};
    return table;
  }

 private:
  void wait(Call& c) { c.give_value(barrier_.wait(timeout_of(c.scalar<std::optional<double>>(0)))); }
  void abort(Call&) { barrier_.abort(); }
  void reset(Call&) { barrier_.reset(); }
  void parties(Call& c) { c.give_value(barrier_.parties()); }
  void n_waiting(Call& c) { c.give_value(barrier_.n_waiting()); }
  void broken(Call& c) { c.give_value(barrier_.broken()); }
  threading::Barrier barrier_;
};

// A registered type's object: its methods are the registry's trampolines.
class RegisteredObject : public ManagedObject {
 public:
  RegisteredObject(const TypeEntry& type, std::shared_ptr<void> object)
      : ManagedObject(type.type_id), type_(type), object_(std::move(object)) {}
  void call(const std::string& method, Call& call) override {
    const auto it = type_.methods.find(method);
    if (it == type_.methods.end()) not_exposed(method);
    call.give_bytes(it->second(object_.get(), arguments(call)));
  }
  // The one argument tuple; the proxies inside, unpickled here, each adopt a reference.
  static const std::string& arguments(Call& call) {
    if (call.size() != 1) throw ServerFailure("TypeError", "a registered type's call takes one argument tuple");
    call.table().incref(call.at(0).refs);
    return call.bytes(0);
  }

 private:
  const TypeEntry& type_;  // the server's registry outlives its objects
  std::shared_ptr<void> object_;
};

std::int64_t count_argument(Call& call) { return call.size() ? call.scalar<std::int64_t>(0) : 1; }

}  // namespace

std::shared_ptr<ManagedObject> make_builtin(const std::string& type_id, Call& call) {
  if (type_id == "dict") return std::make_shared<DictObject>(call);
  if (type_id == "list" || type_id == "Array") return std::make_shared<ListObject>(type_id, call);
  if (type_id == "Value") return std::make_shared<ValueObject>(call);
  if (type_id == "Namespace") return std::make_shared<NamespaceObject>(call);
  if (type_id == "Queue" || type_id == "JoinableQueue") return std::make_shared<QueueObject>(type_id, call);
  if (type_id == "Lock") return std::make_shared<AcquirerObject<threading::Lock>>(type_id);
  if (type_id == "RLock") return std::make_shared<AcquirerObject<threading::RLock>>(type_id);
  if (type_id == "Semaphore")
    return std::make_shared<AcquirerObject<threading::Semaphore>>(type_id, count_argument(call));
  if (type_id == "BoundedSemaphore")
    return std::make_shared<AcquirerObject<threading::BoundedSemaphore>>(type_id, count_argument(call));
  if (type_id == "Condition") return std::make_shared<ConditionObject>();
  if (type_id == "Event") return std::make_shared<EventObject>();
  if (type_id == "Barrier") return std::make_shared<BarrierObject>(call.scalar<std::int64_t>(0));
  return nullptr;
}

std::shared_ptr<ManagedObject> make_registered(const TypeEntry& type, Call& call) {
  return std::make_shared<RegisteredObject>(type, type.factory(RegisteredObject::arguments(call)));
}

}  // namespace pyconc::multiprocessing::managers::detail
