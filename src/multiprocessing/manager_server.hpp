// Internal: a manager's server — the objects it holds, the table of references proxies own,
// and the loop that serves connections (one thread per client connection, as Python's, so
// an RLock's owner is the client thread whose connection it is).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "pyconc/multiprocessing/managers.hpp"

namespace pyconc::multiprocessing::managers::detail {

// A failure of the machinery, not of the method: the client gets RemoteError.
class ServerFailure : public std::runtime_error {
 public:
  ServerFailure(std::string type, const std::string& message) : std::runtime_error(message), type_(std::move(type)) {}
  const std::string& type() const { return type_; }

 private:
  std::string type_;
};

class ObjectTable;
class Call;

// One object the server holds.
class ManagedObject {
 public:
  explicit ManagedObject(std::string type_id) : type_id_(std::move(type_id)) {}
  virtual ~ManagedObject() = default;
  // Runs `method`; a method the object does not have is not_exposed(method).
  virtual void call(const std::string& method, Call& call) = 0;
  const std::string& type_id() const { return type_id_; }
  ObjectId id() const { return id_; }

 protected:
  [[noreturn]] void not_exposed(const std::string& method) const;

 private:
  friend class ObjectTable;
  std::string type_id_;
  ObjectId id_ = 0;
};

// A value kept by the server: its pickled bytes, and the objects proxies inside it refer to,
// which it keeps alive.
struct Stored {
  std::string bytes;
  std::vector<std::shared_ptr<ManagedObject>> refs;
};

// id → object, with the number of references proxies own. An object may outlive its entry
// while a Stored value holds it; handing it out again puts it back under the same id.
class ObjectTable {
 public:
  ObjectId add(std::shared_ptr<ManagedObject> object);
  // ServerFailure (KeyError) for an id not in the table.
  std::shared_ptr<ManagedObject> find(ObjectId id);
  void incref(const std::vector<ObjectId>& ids);
  void incref(const std::shared_ptr<ManagedObject>& object);
  void decref(const std::vector<ObjectId>& ids);
  std::size_t size();

 private:
  struct Entry {
    std::shared_ptr<ManagedObject> object;
    std::uint64_t references = 0;
  };
  std::mutex lock_;
  std::unordered_map<ObjectId, Entry> entries_;
  ObjectId next_id_ = 1;
};

// One request's arguments and results, as a method sees them.
class Call {
 public:
  Call(ObjectTable& table, const std::vector<Argument>& args) : table_(table), args_(args) {}

  std::size_t size() const { return args_.size(); }
  // Argument i decoded as T (an index, a flag, a timeout).
  template <class T>
  T scalar(std::size_t i) const {
    return pickle::loads<T>(at(i).bytes);
  }
  // Argument i kept as it is, holding the objects it refers to.
  Stored stored(std::size_t i) const;
  const std::string& bytes(std::size_t i) const { return at(i).bytes; }
  const Argument& at(std::size_t i) const;

  // Results: a kept value (the receiving proxies each get a reference), or a new value.
  void give(const Stored& value);
  template <class T>
  void give_value(const T& value) {
    values_.push_back(pickle::dumps(value));
  }
  void give_bytes(std::string bytes) { values_.push_back(std::move(bytes)); }
  ObjectTable& table() { return table_; }

  std::vector<std::string> take_values() { return std::move(values_); }
  // The objects handed out in results, to be referenced before the reply leaves.
  const std::vector<std::shared_ptr<ManagedObject>>& handed_out() const { return handed_out_; }

 private:
  ObjectTable& table_;
  const std::vector<Argument>& args_;
  std::vector<std::string> values_;
  std::vector<std::shared_ptr<ManagedObject>> handed_out_;
};

// The built-in types (managed_objects.cpp); null for a type id that is not one.
std::shared_ptr<ManagedObject> make_builtin(const std::string& type_id, Call& call);
// An object of a registered type.
std::shared_ptr<ManagedObject> make_registered(const TypeEntry& type, Call& call);

class ServerCore {
 public:
  ServerCore(Registry registry, std::optional<Address> address, std::string authkey);
  ~ServerCore();
  const Address& address() const { return listener_.address(); }
  // Serves until stop(), or until one of `stop_when_readable` is readable (the starter's
  // stop message, the parent's sentinel; negative ones are skipped).
  void serve_forever(const std::shared_ptr<ServerCore>& self, const std::vector<int>& stop_when_readable = {});
  void stop();

 private:
  void serve_connection(Connection connection);
  Reply dispatch(const Request& request);
  Reply create(const Request& request);
  Reply call(const Request& request);
  void close_clients();

  Registry registry_;
  std::string authkey_;
  connection::Listener listener_;
  ObjectTable table_;
  int stop_fd_ = -1;  // an eventfd: readable once stop() was called
  std::mutex clients_lock_;
  std::vector<int> client_fds_;  // shut down by stop, so that their threads end
};

// What a server process started by BaseManager::start() is given.
struct LocatedType {
  std::string type_id;
  multiprocessing::detail::CodeAddress factory;
  std::vector<std::pair<std::string, multiprocessing::detail::CodeAddress>> methods;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(type_id, factory, methods);
  }
};
struct ServerSetup {
  std::vector<LocatedType> types;
  std::optional<Address> address;
  std::string authkey;
  std::optional<multiprocessing::detail::LocatedCall> initializer;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(types, address, authkey, initializer);
  }
};
// Its answer, on the pipe it was given: the address it serves, or why it could not start.
struct ServerStarted {
  std::optional<Address> address;
  std::string error;  // pickle::dumps_exception
  template <class Archive>
  void serialize(Archive& archive) {
    archive(address, error);
  }
};
std::vector<LocatedType> locate_types(const Registry& registry);
Registry resolve_types(const std::vector<LocatedType>& types);
// The server process's target: it reports on `started`, and serves until a message arrives
// on `stop` or its parent dies.
void manager_server_main(ServerSetup setup, Connection started, Connection stop);

// The authkey proxies unpickled in this process use: the serving key in a server process,
// else current_process().authkey().
std::string proxy_authkey();
void set_serving_authkey(const std::string& authkey);

}  // namespace pyconc::multiprocessing::managers::detail
