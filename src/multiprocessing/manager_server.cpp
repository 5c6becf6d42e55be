// A manager's server: the object table, the accept loop, one thread per connection, and the
// target of the server process BaseManager::start() runs.
#include "manager_server.hpp"

#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <thread>

#include "pool_messages.hpp"
#include "pyconc/multiprocessing/process.hpp"

namespace pyconc::multiprocessing::managers::detail {

void ManagedObject::not_exposed(const std::string& method) const {
  throw ServerFailure("AttributeError", "method '" + method + "' of '" + type_id_ + "' object is not exposed");
}

ObjectId ObjectTable::add(std::shared_ptr<ManagedObject> object) {
  std::scoped_lock hold(lock_);
  const ObjectId id = next_id_++;
  object->id_ = id;
  entries_[id] = Entry{std::move(object), 1};
  return id;
}

std::shared_ptr<ManagedObject> ObjectTable::find(ObjectId id) {
  std::scoped_lock hold(lock_);
  const auto it = entries_.find(id);
  if (it == entries_.end()) throw ServerFailure("KeyError", "no managed object with id " + std::to_string(id));
  return it->second.object;
}

void ObjectTable::incref(const std::vector<ObjectId>& ids) {
  std::scoped_lock hold(lock_);
  for (ObjectId id : ids) {
    const auto it = entries_.find(id);
    if (it == entries_.end()) throw ServerFailure("KeyError", "no managed object with id " + std::to_string(id));
    ++it->second.references;
  }
}

void ObjectTable::incref(const std::shared_ptr<ManagedObject>& object) {
  std::scoped_lock hold(lock_);
  Entry& entry = entries_[object->id_];
  if (!entry.object) entry.object = object;
  ++entry.references;
}

void ObjectTable::decref(const std::vector<ObjectId>& ids) {
  std::vector<std::shared_ptr<ManagedObject>> released;  // destroyed after the lock is let go
  std::scoped_lock hold(lock_);
  for (ObjectId id : ids) {
    const auto it = entries_.find(id);
    if (it == entries_.end() || --it->second.references > 0) continue;
    released.push_back(std::move(it->second.object));
    entries_.erase(it);
  }
}

std::size_t ObjectTable::size() {
  std::scoped_lock hold(lock_);
  return entries_.size();
}

const Argument& Call::at(std::size_t i) const {
  if (i >= args_.size()) throw ServerFailure("TypeError", "missing argument " + std::to_string(i + 1));
  return args_[i];
}

Stored Call::stored(std::size_t i) const {
  const Argument& argument = at(i);
  Stored value{argument.bytes, {}};
  for (ObjectId id : argument.refs) value.refs.push_back(table_.find(id));
  return value;
}

void Call::give(const Stored& value) {
  values_.push_back(value.bytes);
  handed_out_.insert(handed_out_.end(), value.refs.begin(), value.refs.end());
}

ServerCore::ServerCore(Registry registry, std::optional<Address> address, std::string authkey)
    : registry_(std::move(registry)),
      authkey_(std::move(authkey)),
      listener_(std::move(address), 128, authkey_),
      stop_fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  if (stop_fd_ < 0) throw OSError("eventfd failed");
}

ServerCore::~ServerCore() {
  listener_.close();
  ::close(stop_fd_);
}

void ServerCore::stop() {
  const std::uint64_t one = 1;
  [[maybe_unused]] const auto written = ::write(stop_fd_, &one, sizeof one);
}

void ServerCore::serve_forever(const std::shared_ptr<ServerCore>& self, const std::vector<int>& stop_when_readable) {
  std::vector<int> watched{listener_.fileno(), stop_fd_};
  for (int fd : stop_when_readable)
    if (fd >= 0) watched.push_back(fd);
  for (;;) {
    const auto ready = connection::wait(watched);
    if (std::find(ready.begin(), ready.end(), listener_.fileno()) == ready.end()) break;  // stop, or orphaned
    try {
      Connection client = listener_.accept();
      {
        std::scoped_lock hold(clients_lock_);
        client_fds_.push_back(client.fileno());
      }
      std::thread([self, client]() mutable { self->serve_connection(std::move(client)); }).detach();
    } catch (const Error&) {
      // A client that failed the handshake or went away at once: the server goes on.
    }
  }
  listener_.close();
  close_clients();
}

void ServerCore::close_clients() {
  std::scoped_lock hold(clients_lock_);
  for (int fd : client_fds_) ::shutdown(fd, SHUT_RDWR);  // their threads see the end and finish
}

void ServerCore::serve_connection(Connection connection) {
  for (;;) {
    Request request;
    try {
      request = connection.recv<Request>();
    } catch (const Error&) {
      break;  // the client closed its connection (or sent garbage)
    }
    const Reply reply = dispatch(request);
    try {
      connection.send(reply);
    } catch (const Error&) {
      break;
    }
  }
  std::scoped_lock hold(clients_lock_);
  client_fds_.erase(std::remove(client_fds_.begin(), client_fds_.end(), connection.fileno()), client_fds_.end());
}

Reply ServerCore::dispatch(const Request& request) {
  try {
    switch (request.kind) {
      case RequestKind::call:
        return call(request);
      case RequestKind::create:
        return create(request);
      case RequestKind::incref:
        table_.incref(request.ids);
        return {};
      case RequestKind::decref:
        table_.decref(request.ids);
        return {};
      case RequestKind::number_of_objects: {
        Reply reply;
        reply.id = table_.size();
        return reply;
      }
    }
    throw ServerFailure("ValueError", "unknown request");
  } catch (const ServerFailure& failure) {
    Reply reply;
    reply.kind = ReplyKind::failed;
    reply.error_type = failure.type();
    reply.error = failure.what();
    return reply;
  } catch (...) {
    Reply reply;
    reply.kind = ReplyKind::raised;
    reply.error = pickle::dumps_exception(std::current_exception());
    return reply;
  }
}

Reply ServerCore::create(const Request& request) {
  Call arguments(table_, request.args);
  std::shared_ptr<ManagedObject> object;
  if (const TypeEntry* type = registry_.find(request.name)) {
    object = make_registered(*type, arguments);
  } else {
    object = make_builtin(request.name, arguments);
  }
  if (!object) throw ServerFailure("KeyError", "unknown type id '" + request.name + "'");
  Reply reply;
  reply.id = table_.add(std::move(object));
  return reply;
}

Reply ServerCore::call(const Request& request) {
  const auto object = table_.find(request.id);
  Call call(table_, request.args);
  object->call(request.name, call);
  for (const auto& handed : call.handed_out()) table_.incref(handed);
  Reply reply;
  reply.values = call.take_values();
  return reply;
}

std::vector<LocatedType> locate_types(const Registry& registry) {
  using multiprocessing::detail::locate_code;
  std::vector<LocatedType> located;
  for (const auto& [type_id, entry] : registry.types()) {
    LocatedType type{type_id, locate_code(reinterpret_cast<const void*>(entry.factory)), {}};
    for (const auto& [name, method] : entry.methods)
      type.methods.emplace_back(name, locate_code(reinterpret_cast<const void*>(method)));
    located.push_back(std::move(type));
  }
  return located;
}

Registry resolve_types(const std::vector<LocatedType>& types) {
  using multiprocessing::detail::resolve_code;
  Registry registry;
  for (const auto& type : types) {
    TypeEntry entry{type.type_id, reinterpret_cast<FactoryEntry>(const_cast<void*>(resolve_code(type.factory))), {}};
    for (const auto& [name, method] : type.methods)
      entry.methods[name] = reinterpret_cast<MethodEntry>(const_cast<void*>(resolve_code(method)));
    registry.insert(std::move(entry));
  }
  return registry;
}

namespace {

std::string& serving_authkey() {
  static std::string key;
  return key;
}

int parent_sentinel_or_none() {
  try {
    if (auto parent = parent_process()) return parent->sentinel();
  } catch (const Error&) {
  }
  return -1;
}

}  // namespace

void set_serving_authkey(const std::string& authkey) { serving_authkey() = authkey; }

std::string proxy_authkey() {
  if (!serving_authkey().empty()) return serving_authkey();
  return current_process().authkey();
}

void manager_server_main(ServerSetup setup, Connection started, Connection stop) {
  ::signal(SIGINT, SIG_IGN);  // Python's server ignores SIGINT: Ctrl-C is for the program
  std::shared_ptr<ServerCore> core;
  try {
    if (setup.initializer) multiprocessing::detail::run_call(*setup.initializer);
    core = std::make_shared<ServerCore>(resolve_types(setup.types), setup.address, setup.authkey);
  } catch (...) {
    started.send(ServerStarted{std::nullopt, pickle::dumps_exception(std::current_exception())});
    return;
  }
  set_serving_authkey(setup.authkey);
  started.send(ServerStarted{core->address(), {}});
  started.close();
  core->serve_forever(core, {stop.fileno(), parent_sentinel_or_none()});
  // Threads may still be inside methods (a get() waiting forever): end the process now, as
  // Python's server does with sys.exit after its stop event.
  std::fflush(nullptr);
  ::_exit(0);
}

}  // namespace pyconc::multiprocessing::managers::detail
