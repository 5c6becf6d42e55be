// A manager's client side: each thread's connections to the servers it talks to, the
// proxies' references, and what happens to them across fork() and at exit.
#include <sys/types.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <mutex>
#include <new>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "manager_server.hpp"
#include "pyconc/os.hpp"
#include "threading/registry.hpp"

namespace pyconc::multiprocessing::managers {

std::string repr(const Token& token) {
  return "Token(typeid='" + token.type_id + "', address=" + connection::to_string(token.address) +
         ", id=" + std::to_string(token.id) + ")";
}

namespace detail {

namespace {

// One connection per thread and server, as Python's proxies keep one per thread: a server
// thread serves it, so what a thread holds (an RLock) is held by one server thread. A forked
// child's copy belongs to its parent's conversation: the child connects anew.
struct ThreadConnections {
  pid_t pid = 0;
  std::unordered_map<std::string, Connection> by_address;
};

ThreadConnections* thread_connections() {
  thread_local bool gone = false;  // trivially destructible: readable to the very end
  struct Owned {
    ThreadConnections connections;
    bool* gone;
    ~Owned() { *gone = true; }
  };
  if (gone) return nullptr;
  thread_local Owned owned{{}, &gone};
  return &owned.connections;
}

[[noreturn]] void connection_reset(const Address& address) {
  throw ConnectionResetError("the manager at " + connection::to_string(address) +
                             " closed the connection (has it shut down?)");
}

Connection connect(const Address& address, const std::string& authkey) {
  try {
    return connection::Client(address, authkey);
  } catch (const EOFError&) {  // gone during the handshake
    connection_reset(address);
  }
}

Reply exchange(Connection& connection, const Address& address, const Request& request) {
  connection.send(request);
  try {
    return connection.recv<Reply>();
  } catch (const EOFError&) {
    connection_reset(address);
  }
}

Reply checked(Reply reply) {
  if (reply.kind == ReplyKind::raised) std::rethrow_exception(pickle::loads_exception(reply.error));
  if (reply.kind == ReplyKind::failed) throw RemoteError(reply.error_type, reply.error);
  return reply;
}

}  // namespace

Reply request(const Address& address, const std::string& authkey, const Request& request) {
  ThreadConnections* cache = thread_connections();
  if (!cache) {  // this thread's connections are gone (its thread_locals died): a one-off
    Connection once = connect(address, authkey);
    return checked(exchange(once, address, request));
  }
  if (cache->pid != ::getpid()) {
    cache->by_address.clear();
    cache->pid = ::getpid();
  }
  const std::string key = connection::to_string(address);
  auto found = cache->by_address.find(key);
  if (found == cache->by_address.end())
    found = cache->by_address.emplace(key, connect(address, authkey)).first;
  try {
    return checked(exchange(found->second, address, request));
  } catch (const OSError&) {
    cache->by_address.erase(key);  // broken: the next request connects again
    throw;
  }
}

namespace {

// Every ProxyState of this process, for fork() and exit.
struct LiveStates {
  std::mutex lock;
  std::unordered_set<ProxyState*> states;

  static LiveStates& instance();
};

using ManagerKey = std::pair<std::string, std::string>;  // address, authkey

// The ids each manager holds for `states`.
std::map<ManagerKey, std::pair<Address, std::vector<ObjectId>>> by_manager(const std::unordered_set<ProxyState*>& states) {
  std::map<ManagerKey, std::pair<Address, std::vector<ObjectId>>> groups;
  for (ProxyState* state : states) {
    auto& group = groups[{connection::to_string(state->token().address), state->authkey()}];
    group.first = state->token().address;
    group.second.push_back(state->token().id);
  }
  return groups;
}

void send_quietly(RequestKind kind, const std::unordered_set<ProxyState*>& states) {
  for (auto& [key, group] : by_manager(states)) {
    try {
      request(group.first, key.second, Request{kind, 0, {}, {}, group.second});
    } catch (...) {
      // A manager that has gone holds nothing any more.
    }
  }
}

// Before fork(): the child's copies of this process's proxies will be its own, so each gets
// a reference of its own, taken here while the parent's are sure to be alive (Python takes
// it in the child, after fork, when the parent may already have let go).
void reference_for_child() {
  LiveStates& live = LiveStates::instance();
  live.lock.lock();  // held across fork: no state comes or goes half-way
  send_quietly(RequestKind::incref, live.states);
}

// At normal exit, each proxy still alive gives its reference back, before any manager this
// process started is shut down (Python's proxies' finalizers, exit priority 10).
void release_at_exit() {
  LiveStates& live = LiveStates::instance();
  std::unordered_set<ProxyState*> states;
  {
    std::scoped_lock hold(live.lock);
    states = live.states;
  }
  send_quietly(RequestKind::decref, states);
  for (ProxyState* state : states) state->release_reference();
}

LiveStates& LiveStates::instance() {
  static LiveStates* live = [] {
    auto* created = new LiveStates;  // never destroyed: proxies may die after main returns
    pyconc::os::register_at_fork(&reference_for_child, [created] { created->lock.unlock(); },
                                 [created] { new (&created->lock) std::mutex(); });
    threading::detail::Registry::instance().add_after_join(&release_at_exit);
    return created;
  }();
  return *live;
}

thread_local RefCollector* current_collector = nullptr;

}  // namespace

ProxyState::ProxyState(Token token, std::string authkey) : token_(std::move(token)), authkey_(std::move(authkey)) {
  LiveStates& live = LiveStates::instance();
  std::scoped_lock hold(live.lock);
  live.states.insert(this);
}

ProxyState::~ProxyState() {
  {
    LiveStates& live = LiveStates::instance();
    std::scoped_lock hold(live.lock);
    live.states.erase(this);
  }
  if (!owns_reference_) return;
  try {
    request(token_.address, authkey_, Request{RequestKind::decref, 0, {}, {}, {token_.id}});
  } catch (...) {
    // The manager has shut down: nothing is left to release.
  }
}

void ProxyState::release_reference() { owns_reference_ = false; }

void ProxyState::add_reference() const {
  request(token_.address, authkey_, Request{RequestKind::incref, 0, {}, {}, {token_.id}});
}

Reply ProxyState::call(const std::string& method, const std::vector<Argument>& args) const {
  return request(token_.address, authkey_, Request{RequestKind::call, token_.id, method, args, {}});
}

Token share(const std::shared_ptr<ProxyState>& state) {
  if (!state) return {};
  RefCollector* collector = RefCollector::current();
  if (collector && collector->address() == state->token().address) {
    collector->record(state->token().id);
  } else {
    state->add_reference();
  }
  return state->token();
}

std::shared_ptr<ProxyState> adopt(Token token) {
  if (token.id == 0) return nullptr;
  return std::make_shared<ProxyState>(std::move(token), proxy_authkey());
}

RefCollector::RefCollector(const Address& address) : address_(address), outer_(current_collector) {
  current_collector = this;
}
RefCollector::~RefCollector() { current_collector = outer_; }
RefCollector* RefCollector::current() { return current_collector; }

}  // namespace detail

const detail::ProxyState& BaseProxy::state() const {
  if (!state_) throw ValueError("this proxy refers to no managed object");
  return *state_;
}

detail::Reply BaseProxy::call(const std::string& method, const std::vector<detail::Argument>& args) const {
  return state().call(method, args);
}

std::string BaseProxy::repr() const {
  if (!state_) return "<BaseProxy object, referring to nothing>";
  return "<Proxy object, typeid '" + state_->token().type_id + "' at " +
         connection::to_string(state_->token().address) + ", id " + std::to_string(state_->token().id) + ">";
}

void NamespaceProxy::del(const std::string& name) {
  if (is_local(name)) {
    if (local_.erase(name) == 0) throw AttributeError(name);
    return;
  }
  invoke("__delattr__", name);
}

bool NamespaceProxy::has(const std::string& name) const {
  if (is_local(name)) return local_.count(name) != 0;
  return result<bool>(invoke("__contains__", name));
}

const std::string& NamespaceProxy::local(const std::string& name) const {
  const auto it = local_.find(name);
  if (it == local_.end()) throw AttributeError("'NamespaceProxy' object has no attribute '" + name + "'");
  return it->second;
}

bool ConditionProxy::wait_for(const std::function<bool()>& predicate, Timeout timeout) const {
  const Deadline deadline = timeout.deadline();
  bool result = predicate();
  while (!result) {
    if (!deadline.is_never() && deadline.expired()) break;
    wait(deadline.is_never() ? Timeout(forever) : Timeout(deadline.remaining()));
    result = predicate();
  }
  return result;
}

}  // namespace pyconc::multiprocessing::managers
