// Process: its life cycle (start, join, signals, close), the children registry, and what
// the running process knows about itself.
#include "process_state.hpp"

#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <random>
#include <sstream>

#include "detail/built_at_load.hpp"
#include "pyconc/detail/type_name.hpp"
#include "pyconc/os.hpp"
#include "pyconc/report.hpp"
#include "threading/registry.hpp"

namespace pyconc::multiprocessing {

namespace detail {

namespace {

std::string random_authkey() {
  std::random_device device;
  std::string key(32, '\0');
  for (auto& c : key) c = static_cast<char>(device() & 0xff);
  return key;
}

struct Children {
  std::mutex lock;
  std::vector<std::shared_ptr<ProcessState>> list;
};

Children& children() {
  static Children* c = [] {
    auto* created = new Children;  // never destroyed: the exit function runs after statics die
    pyconc::os::detail::fork_protect(created->lock);
    // A forked child has no children of its own (Python clears _children in the child).
    pyconc::os::register_at_fork({}, {}, [created] { created->list.clear(); });
    return created;
  }();
  return *c;
}

struct Self {
  std::mutex lock;
  SelfInfo info;
};

Self& self() {
  static Self* s = [] {
    auto* created = new Self;
    auto state = std::make_shared<ProcessState>();
    state->kind = ProcessState::Kind::self;
    state->creator = state->known_pid = ::getpid();
    state->name = "MainProcess";
    state->authkey = random_authkey();
    state->phase = ProcessState::Phase::started;
    created->info.state = std::move(state);
    pyconc::os::detail::fork_protect(created->lock);
    return created;
  }();
  return *s;
}

PYCONC_BUILD_AT_LOAD((children(), self()));

// Python's util._exit_function: at normal exit, daemon children are terminated, then every
// child is joined, so none outlives its parent unwaited.
void exit_function() {
  for (auto& child : live_children()) {
    std::scoped_lock hold(child->lock);
    if (child->daemon && child->popen && !child->exitcode) child->popen->send_signal(SIGTERM);
  }
  for (auto& child : live_children()) poll_exit(*child, Deadline::never());
}

void arm_exit_function() {
  static std::once_flag once;
  std::call_once(once, [] { threading::detail::Registry::instance().add_after_join(&exit_function); });
}

}  // namespace

std::mutex& self_lock() { return self().lock; }
SelfInfo& self_info() { return self().info; }

void become_child(const std::string& name, bool daemon, const std::string& authkey, std::vector<int> identity,
                  pid_t parent_pid, const std::string& parent_name, bool os_parent) {
  auto state = std::make_shared<ProcessState>();
  state->kind = ProcessState::Kind::self;
  state->creator = state->known_pid = ::getpid();
  state->name = name;
  state->daemon = daemon;
  state->authkey = authkey;
  state->identity = std::move(identity);
  state->phase = ProcessState::Phase::started;
  auto parent = std::make_shared<ProcessState>();
  parent->kind = ProcessState::Kind::parent;
  parent->known_pid = parent_pid;
  parent->name = parent_name;
  parent->authkey = authkey;
  parent->phase = ProcessState::Phase::started;
  parent->parent_pidfd = static_cast<int>(::syscall(SYS_pidfd_open, parent_pid, 0));
  // The parent may have ended already: then we were re-parented, and a pidfd for its pid
  // (reused meanwhile) would not be our parent's.
  if (os_parent && parent->parent_pidfd >= 0 && ::getppid() != parent_pid) {
    ::close(parent->parent_pidfd);
    parent->parent_pidfd = -1;
  }
  std::scoped_lock hold(self_lock());
  self_info() = SelfInfo{std::move(state), 1, std::move(parent)};
}

int run_child_target(ProcessTarget& target, const std::string& name) {
  try {
    target.run();
    return 0;
  } catch (const SystemExit& e) {
    if (e.has_message()) report(std::string(e.what()) + "\n");
    return e.exit_code();
  } catch (...) {
    report("Process " + name + ":\n" + pyconc::detail::describe_exception(std::current_exception()) + "\n");
    return 1;
  }
}

void add_child(std::shared_ptr<ProcessState> child) {
  arm_exit_function();
  Children& c = children();
  std::scoped_lock hold(c.lock);
  c.list.push_back(std::move(child));
}

std::optional<int> poll_exit(ProcessState& s, const Deadline& deadline) {
  std::shared_ptr<Popen> popen;
  {
    std::scoped_lock hold(s.lock);
    if (s.exitcode || !s.popen) return s.exitcode;
    popen = s.popen;
  }
  const auto code = popen->wait(deadline);
  std::scoped_lock hold(s.lock);
  if (code) s.exitcode = code;
  return s.exitcode;
}

// Reaps the children that have ended on the way, as Python's active_children() does.
std::vector<std::shared_ptr<ProcessState>> live_children() {
  std::vector<std::shared_ptr<ProcessState>> copy;
  {
    Children& c = children();
    std::scoped_lock hold(c.lock);
    copy = c.list;
  }
  std::vector<std::shared_ptr<ProcessState>> alive, ended;
  for (auto& child : copy) (poll_exit(*child, Deadline::now()) ? ended : alive).push_back(child);
  if (!ended.empty()) {
    Children& c = children();
    std::scoped_lock hold(c.lock);
    std::erase_if(c.list, [&](const auto& p) { return std::find(ended.begin(), ended.end(), p) != ended.end(); });
  }
  return alive;
}

}  // namespace detail

using detail::ProcessState;

namespace {

// Python checks these with assertions; so do we, naming the same rules.
void check_creator(const ProcessState& s, const char* what) {
  if (s.creator != ::getpid()) throw AssertionError(std::string("can only ") + what + " a child process");
}

void check_not_closed(const ProcessState& s) {
  if (s.phase == ProcessState::Phase::closed) throw ValueError("process object is closed");
}

}  // namespace

Process::Process(FromTarget, ProcessOptions options, std::optional<StartMethod> method, detail::ProcessTarget target)
    : state_(std::make_shared<ProcessState>()) {
  state_->bound_method = method;
  state_->target = std::move(target);
  state_->creator = ::getpid();
  std::scoped_lock hold(detail::self_lock());
  auto& me = detail::self_info();
  state_->identity = me.state->identity;
  state_->identity.push_back(me.next_child++);
  if (options.name) {
    state_->name = *options.name;
  } else {
    std::string name = "Process-";
    for (std::size_t i = 0; i < state_->identity.size(); ++i) {
      if (i > 0) name.push_back(':');
      name.append(std::to_string(state_->identity[i]));
    }
    state_->name = name;
  }
  std::scoped_lock hold_me(me.state->lock);
  state_->daemon = options.daemon.value_or(me.state->daemon);
  state_->authkey = me.state->authkey;
}

Process::~Process() = default;

void Process::start() {
  ProcessState& s = *state_;
  StartMethod method;
  {
    std::scoped_lock hold(s.lock);
    check_not_closed(s);
    if (s.kind != ProcessState::Kind::child || s.phase != ProcessState::Phase::initial)
      throw AssertionError("cannot start a process twice");
    check_creator(s, "start");
    method = s.bound_method.value_or(detail::default_start_method());
  }
  if (current_process().daemon()) throw AssertionError("daemonic processes are not allowed to have children");
  detail::live_children();  // reaps the children that ended (Python's _cleanup)
  // As Python's Popen does: what this process has buffered comes out before anything the
  // child writes (and under fork it would otherwise be written twice, once by each).
  std::fflush(nullptr);
  std::scoped_lock hold(s.lock);
  if (s.phase != ProcessState::Phase::initial) throw AssertionError("cannot start a process twice");
  switch (method) {
    case StartMethod::fork: detail::start_by_fork(s); break;
    case StartMethod::spawn: detail::start_by_spawn(s); break;
    case StartMethod::forkserver: detail::start_by_forkserver(s); break;
  }
  s.method_used = method;
  s.phase = ProcessState::Phase::started;
  // The target lives on in the child; the parent keeps no reference to it (Python drops
  // _target after start for the same reason: what it holds may be large).
  s.target = {};
  detail::add_child(state_);
}

void Process::join(Timeout timeout) {
  ProcessState& s = *state_;
  const Deadline deadline = timeout.is_forever() ? Deadline::never()
                            : timeout.negative()  ? Deadline::now()
                                                  : timeout.deadline();
  {
    std::scoped_lock hold(s.lock);
    check_not_closed(s);
    if (s.kind == ProcessState::Kind::parent) {
      if (s.parent_pidfd >= 0) detail::wait_readable(s.parent_pidfd, deadline);
      return;
    }
    if (s.kind == ProcessState::Kind::self) throw AssertionError("can only join a child process");
    check_creator(s, "join");
    if (s.phase != ProcessState::Phase::started) throw AssertionError("can only join a started process");
  }
  poll_exit(s, deadline);
}

bool Process::is_alive() const {
  ProcessState& s = *state_;
  {
    std::scoped_lock hold(s.lock);
    check_not_closed(s);
    if (s.kind == ProcessState::Kind::self) return true;
    if (s.kind == ProcessState::Kind::parent)
      return s.parent_pidfd >= 0 && !detail::wait_readable(s.parent_pidfd, Deadline::now());
    if (s.phase == ProcessState::Phase::initial) return false;
    check_creator(s, "test");
  }
  return !poll_exit(s, Deadline::now());
}

std::optional<int> Process::exitcode() const {
  ProcessState& s = *state_;
  {
    std::scoped_lock hold(s.lock);
    check_not_closed(s);
    if (s.phase == ProcessState::Phase::initial || s.kind != ProcessState::Kind::child) return std::nullopt;
  }
  return poll_exit(s, Deadline::now());
}

namespace {
void signal_process(ProcessState& s, int signal) {
  std::scoped_lock hold(s.lock);
  check_not_closed(s);
  if (s.kind != ProcessState::Kind::child) throw AssertionError("can only signal a child process");
  check_creator(s, "signal");
  if (s.popen && !s.exitcode) s.popen->send_signal(signal);
}
}  // namespace

void Process::terminate() { signal_process(*state_, SIGTERM); }
void Process::kill() { signal_process(*state_, SIGKILL); }

void Process::close() {
  ProcessState& s = *state_;
  {
    std::scoped_lock hold(s.lock);
    if (s.phase == ProcessState::Phase::closed || s.phase == ProcessState::Phase::initial) {
      s.phase = ProcessState::Phase::closed;
      s.target = {};
      return;
    }
  }
  if (!poll_exit(s, Deadline::now()))
    throw ValueError("Cannot close a process while it is still running. You should first call join() or terminate().");
  std::scoped_lock hold(s.lock);
  s.popen.reset();
  s.phase = ProcessState::Phase::closed;
}

std::optional<pid_t> Process::pid() const {
  std::scoped_lock hold(state_->lock);
  check_not_closed(*state_);
  if (state_->kind != ProcessState::Kind::child) return state_->known_pid;
  if (!state_->popen) return std::nullopt;
  return state_->popen->pid();
}

int Process::sentinel() const {
  std::scoped_lock hold(state_->lock);
  check_not_closed(*state_);
  if (state_->kind == ProcessState::Kind::parent && state_->parent_pidfd >= 0) return state_->parent_pidfd;
  if (!state_->popen) throw ValueError("process not started");
  return state_->popen->sentinel();
}

std::string Process::name() const {
  std::scoped_lock hold(state_->lock);
  return state_->name;
}
void Process::set_name(std::string name) {
  std::scoped_lock hold(state_->lock);
  state_->name = std::move(name);
}
bool Process::daemon() const {
  std::scoped_lock hold(state_->lock);
  return state_->daemon;
}
void Process::set_daemon(bool daemon) {
  std::scoped_lock hold(state_->lock);
  if (state_->phase != ProcessState::Phase::initial) throw AssertionError("process has already started");
  state_->daemon = daemon;
}
std::string Process::authkey() const {
  std::scoped_lock hold(state_->lock);
  return state_->authkey;
}
StartMethod Process::start_method() const {
  std::scoped_lock hold(state_->lock);
  if (state_->method_used) return *state_->method_used;
  return state_->bound_method.value_or(detail::default_start_method());
}

// Python's repr: <Process name='Process-1' pid=1234 parent=1200 started daemon>.
std::string Process::repr() const {
  const auto code = is_alive() ? std::nullopt : exitcode();
  std::scoped_lock hold(state_->lock);
  std::ostringstream out;
  out << "<Process name='" << state_->name << "'";
  if (state_->popen) out << " pid=" << state_->popen->pid() << " parent=" << state_->creator;
  if (state_->phase == ProcessState::Phase::closed) out << " closed";
  else if (code) out << " stopped exitcode=" << *code;
  else if (state_->phase == ProcessState::Phase::started) out << " started";
  else out << " initial";
  if (state_->daemon) out << " daemon";
  out << ">";
  return out.str();
}

Process current_process() {
  std::scoped_lock hold(detail::self_lock());
  return Process(detail::self_info().state);
}

std::optional<Process> parent_process() {
  std::scoped_lock hold(detail::self_lock());
  if (!detail::self_info().parent) return std::nullopt;
  return Process(detail::self_info().parent);
}

std::vector<Process> active_children() {
  std::vector<Process> result;
  for (auto& child : detail::live_children()) result.push_back(Process(child));
  return result;
}

long cpu_count() { return pyconc::os::cpu_count(); }

}  // namespace pyconc::multiprocessing
