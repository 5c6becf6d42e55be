// BaseManager's life: start (a server process that reports its address on a pipe), connect,
// shutdown (ask, wait, terminate, kill), and the shutdown at exit of those still running.
#include <unistd.h>

#include <chrono>
#include <mutex>
#include <new>
#include <unordered_set>

#include "manager_server.hpp"
#include "pool_messages.hpp"
#include "pyconc/os.hpp"
#include "threading/registry.hpp"

namespace pyconc::multiprocessing::managers {

const detail::TypeEntry* Registry::find(const std::string& type_id) const {
  const auto it = types_.find(type_id);
  return it == types_.end() ? nullptr : &it->second;
}

Server::Server(const Registry& registry, std::optional<Address> address, std::string authkey)
    : core_(std::make_shared<detail::ServerCore>(registry, std::move(address), std::move(authkey))) {}
const Address& Server::address() const { return core_->address(); }
void Server::serve_forever() { core_->serve_forever(core_); }
void Server::stop() { core_->stop(); }

namespace detail {

struct ManagerState {
  enum class Phase { initial, started, connected, shut_down };

  ManagerOptions options;
  std::string kind;  // "SyncManager", for the server process's name
  std::string authkey;
  std::optional<Address> address;
  Phase phase = Phase::initial;
  std::optional<Process> process;
  std::optional<Connection> stop;  // a message on it stops the server
  pid_t starter = 0;
  std::mutex lock;
};

namespace {

// The managers this process started and has not shut down, for the exit sequence.
struct StartedManagers {
  std::mutex lock;
  std::unordered_set<ManagerState*> states;
  static StartedManagers& instance() {
    static auto* managers = [] {
      auto* created = new StartedManagers;  // never destroyed: exit hooks use it
      pyconc::os::detail::fork_protect(created->lock);
      return created;
    }();
    return *managers;
  }
};

// Python asks the server over a connection, which hangs if the server does not answer the
// handshake; a message on a pipe of our own never blocks.
void stop_server(ManagerState& s) {
  try {
    s.stop->send_bytes("stop");
  } catch (const Error&) {
    // Already gone: the process is dealt with below.
  }
  s.stop->close();
  s.process->join(std::chrono::duration<double>(s.options.shutdown_timeout));
  if (s.process->is_alive()) {
    s.process->terminate();
    s.process->join(std::chrono::milliseconds(100));
  }
  if (s.process->is_alive()) {
    s.process->kill();
    s.process->join();
  }
  // A server that was killed could not remove its socket's path.
  if (const auto* path = std::get_if<std::string>(&*s.address); path && s.process->exitcode() != 0)
    ::unlink(path->c_str());
}

void shut_down(ManagerState& s) {
  {
    std::scoped_lock hold(s.lock);
    // A forked child's copy of a manager is its parent's to stop (Python clears its
    // finalizers in a child).
    if (s.phase != ManagerState::Phase::started || s.starter != ::getpid()) return;
    s.phase = ManagerState::Phase::shut_down;
    stop_server(s);
  }
  StartedManagers& started = StartedManagers::instance();
  std::scoped_lock hold(started.lock);
  started.states.erase(&s);
}

// At normal exit, after the proxies gave their references back (their hook is newer) and
// before the children are joined (multiprocessing's exit function is older: a Process was
// started before this was registered).
void shut_down_at_exit() {
  StartedManagers& started = StartedManagers::instance();
  std::unordered_set<ManagerState*> states;
  {
    std::scoped_lock hold(started.lock);
    states = started.states;
  }
  for (ManagerState* s : states) shut_down(*s);
}

void register_started(ManagerState& s) {
  static std::once_flag once;
  std::call_once(once, [] { threading::detail::Registry::instance().add_after_join(&shut_down_at_exit); });
  StartedManagers& started = StartedManagers::instance();
  std::scoped_lock hold(started.lock);
  started.states.insert(&s);
}

// Python names the server process after the manager class and the process's number.
std::string server_name(const std::string& kind, const Process& process) {
  const std::string name = process.name();
  const auto dash = name.rfind('-');
  return dash == std::string::npos ? kind : kind + name.substr(dash);
}

ServerSetup setup_for(const ManagerState& s, const Initializer& initializer) {
  ServerSetup setup{locate_types(s.options.registry), s.options.address, s.authkey, std::nullopt};
  if (initializer) setup.initializer = multiprocessing::detail::locate_call(initializer.call());
  return setup;
}

// Starts the server process and waits for the address it serves (or why it could not).
Address start_server(ManagerState& s, const Initializer& initializer) {
  auto [reader, writer] = Pipe(false);
  auto [stop_reader, stop_writer] = Pipe(false);
  const Context context = s.options.context.value_or(get_context());
  s.process = context.Process(&manager_server_main, setup_for(s, initializer), writer, stop_reader);
  s.process->set_name(server_name(s.kind, *s.process));
  s.process->start();
  writer.close();
  stop_reader.close();
  s.stop = stop_writer;
  ServerStarted answer;
  try {
    answer = reader.recv<ServerStarted>();
  } catch (const EOFError&) {
    s.process->join();
    throw ProcessError("the manager's server process ended before serving (exit code " +
                       std::to_string(s.process->exitcode().value_or(-1)) + ")");
  }
  if (!answer.address) {
    s.process->join();
    std::rethrow_exception(pickle::loads_exception(answer.error));
  }
  return *answer.address;
}

}  // namespace
}  // namespace detail

BaseManager::BaseManager(ManagerOptions options) : BaseManager(std::move(options), "BaseManager") {}

BaseManager::BaseManager(ManagerOptions options, std::string kind) : state_(std::make_unique<detail::ManagerState>()) {
  state_->authkey = options.authkey ? *options.authkey : current_process().authkey();
  state_->address = options.address;
  state_->options = std::move(options);
  state_->kind = std::move(kind);
}

BaseManager::~BaseManager() {
  if (!state_) return;
  try {
    shutdown();
  } catch (...) {
    // A destructor cannot report: shutdown already tried everything it could.
  }
}

BaseManager::BaseManager(BaseManager&&) noexcept = default;
BaseManager& BaseManager::operator=(BaseManager&& other) noexcept {
  if (this != &other) {
    if (state_) detail::shut_down(*state_);
    state_ = std::move(other.state_);
  }
  return *this;
}

void BaseManager::start(Initializer initializer) {
  detail::ManagerState& s = *state_;
  std::scoped_lock hold(s.lock);
  if (s.phase == detail::ManagerState::Phase::started) throw ProcessError("Already started server");
  if (s.phase == detail::ManagerState::Phase::shut_down) throw ProcessError("Manager has shut down");
  if (s.phase == detail::ManagerState::Phase::connected) throw ProcessError("Already connected to a server");
  s.address = detail::start_server(s, initializer);
  s.phase = detail::ManagerState::Phase::started;
  s.starter = ::getpid();
  detail::register_started(s);
}

void BaseManager::connect() {
  detail::ManagerState& s = *state_;
  std::scoped_lock hold(s.lock);
  if (s.phase == detail::ManagerState::Phase::shut_down) throw ProcessError("Manager has shut down");
  if (!s.address) throw ValueError("connect() needs the server's address (ManagerOptions::address)");
  detail::request(*s.address, s.authkey, detail::Request{detail::RequestKind::number_of_objects, 0, {}, {}, {}});
  if (s.phase == detail::ManagerState::Phase::initial) s.phase = detail::ManagerState::Phase::connected;
}

void BaseManager::shutdown() {
  if (state_) detail::shut_down(*state_);
}

Server BaseManager::get_server() const {
  if (state_->phase != detail::ManagerState::Phase::initial) throw ProcessError("Already started server");
  return Server(state_->options.registry, state_->options.address, state_->authkey);
}

const Address& BaseManager::address() const {
  if (!state_->address) throw ValueError("the manager has no address until start() or connect()");
  return *state_->address;
}

std::shared_ptr<detail::ProxyState> BaseManager::make_object(const std::string& type_id,
                                                             std::vector<detail::Argument> args) {
  detail::ManagerState& s = *state_;
  Address address;
  {
    std::scoped_lock hold(s.lock);
    if (s.phase == detail::ManagerState::Phase::initial) throw ProcessError("the manager has not been started");
    if (s.phase == detail::ManagerState::Phase::shut_down) throw ProcessError("Manager has shut down");
    address = *s.address;
  }
  const auto reply =
      detail::request(address, s.authkey, detail::Request{detail::RequestKind::create, 0, type_id, std::move(args), {}});
  return std::make_shared<detail::ProxyState>(Token{type_id, std::move(address), reply.id}, s.authkey);
}

std::size_t BaseManager::number_of_objects() const {
  return detail::request(address(), state_->authkey,
                         detail::Request{detail::RequestKind::number_of_objects, 0, {}, {}, {}})
      .id;
}

std::optional<Process> BaseManager::process() const { return state_->process; }

SyncManager Manager(ManagerOptions options) {
  SyncManager manager(std::move(options));
  manager.start();
  return manager;
}

}  // namespace pyconc::multiprocessing::managers
