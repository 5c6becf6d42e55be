// Arbiter (arbiter.hpp), after Gunicorn's arbiter.py: one thread, a self-pipe for signals,
// and multiprocessing::connection::wait over it and the workers' sentinels.
#include "pyconc/server/arbiter.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>

#include "listeners.hpp"
#include "pyconc/multiprocessing.hpp"
#include "server_log.hpp"
#include "worker.hpp"
#include "worker_context.hpp"

namespace pyconc::server {

namespace {

namespace mp = pyconc::multiprocessing;

constexpr int handled_signals[] = {SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGTTIN, SIGTTOU, SIGUSR1, SIGUSR2, SIGWINCH};

// The write end of the self-pipe: a signal handler may only do async-signal-safe things.
std::atomic<int> signal_pipe_write{-1};

extern "C" void queue_signal(int signum) {
  const int saved = errno;
  const unsigned char byte = static_cast<unsigned char>(signum);
  const int fd = signal_pipe_write.load(std::memory_order_relaxed);
  if (fd >= 0) [[maybe_unused]] auto written = ::write(fd, &byte, 1);
  errno = saved;
}

sigset_t handled_set() {
  sigset_t set;
  sigemptyset(&set);
  for (int signum : handled_signals) sigaddset(&set, signum);
  return set;
}

std::int64_t seconds_to_ns(double seconds) { return static_cast<std::int64_t>(seconds * 1e9); }

std::string signal_name(int signum) {
  switch (signum) {
    case SIGTERM: return "term";
    case SIGINT: return "int";
    case SIGQUIT: return "quit";
    case SIGHUP: return "hup";
    case SIGTTIN: return "ttin";
    case SIGTTOU: return "ttou";
    case SIGUSR1: return "usr1";
    case SIGUSR2: return "usr2";
    case SIGWINCH: return "winch";
    default: return std::to_string(signum);
  }
}

}  // namespace

struct Arbiter::State {
  struct Worker {
    mp::Process process;
    std::size_t slot = 0;        // on the board
    int age = 0;
    std::int64_t started = 0;    // steady-clock ns
    bool retiring = false;       // told to stop: not counted, not replaced
    std::int64_t kill_at = 0;    // when a retiring worker is killed if still there
  };

  Application application;
  Config config;
  std::vector<detail::Listener> listeners;
  std::map<pid_t, Worker> workers;
  // Made before the first fork, so that every worker shares it (at most 256 at once).
  detail::WorkerBoard board{256};
  int target = 1;
  int ages = 0;
  int pipe_read = -1, pipe_write = -1;
  int quick_deaths = 0;           // workers in a row that died abnormally soon after booting
  std::int64_t respawn_after = 0;  // the backoff's end
  std::optional<int> halt;         // the exit status, once the arbiter must stop
  bool graceful = true;

  void spawn_worker();
  bool try_spawn_worker();
  void handle_signal(int signum);
  void reap_workers();
  void murder_workers();
  void manage_workers();
  void retire(Worker& worker, int signum, double grace);
  void stop();
  void reexecute();
  void reopen_error_log();
};

void Arbiter::State::spawn_worker() {
  const std::size_t slot = board.claim();
  detail::WorkerSetup setup{&application, &config, {}, &board, slot, ++ages};
  for (const auto& listener : listeners) setup.listeners.push_back(listener.fd);
  const int pipe_fds[2] = {pipe_read, pipe_write};
  auto body = [setup, pipe_fds] {
    // The arbiter's signal plumbing is not the worker's: back to the defaults, then unblock.
    for (int signum : handled_signals) ::signal(signum, SIG_DFL);
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
    signal_pipe_write.store(-1);
    sigset_t set = handled_set();
    ::sigprocmask(SIG_UNBLOCK, &set, nullptr);
    detail::run_worker(setup);
  };
  mp::ProcessOptions options;
  options.name = "worker-" + std::to_string(setup.age);
  options.daemon = true;
  auto process = mp::get_context("fork").Process(options, std::move(body));
  // A signal between fork and the child's reset would reach the arbiter's handler in the child.
  sigset_t set = handled_set(), old;
  ::sigprocmask(SIG_BLOCK, &set, &old);
  try {
    process.start();
  } catch (...) {
    ::sigprocmask(SIG_SETMASK, &old, nullptr);
    board.release(slot);
    throw;
  }
  ::sigprocmask(SIG_SETMASK, &old, nullptr);
  Worker worker{process, slot, setup.age, board.last_beat(slot)};
  workers.emplace(*process.pid(), std::move(worker));
}

// A worker that cannot be started (no slot left on the board, fork failing) is said so, and
// the arbiter goes on with the workers it has.
bool Arbiter::State::try_spawn_worker() {
  try {
    spawn_worker();
    return true;
  } catch (const std::exception& error) {
    detail::log_error(std::string("Cannot start a worker: ") + error.what());
    return false;
  }
}

void Arbiter::State::retire(Worker& worker, int signum, double grace) {
  worker.retiring = true;
  worker.kill_at = detail::heartbeat_now() + seconds_to_ns(grace);
  if (auto pid = worker.process.pid()) ::kill(*pid, signum);
}

void Arbiter::State::handle_signal(int signum) {
  detail::log_info("Handling signal: " + signal_name(signum));
  switch (signum) {
    case SIGTERM:
      halt = 0;
      graceful = true;
      break;
    case SIGINT:
    case SIGQUIT:
      halt = 0;
      graceful = false;
      break;
    case SIGHUP:
      // Gunicorn's reload: new workers first, then the old ones drained; the listening
      // sockets stay open all along, so no connection is refused meanwhile.
      detail::log_info("Hang up: Master");
      for (auto& [pid, worker] : workers) {
        if (!worker.retiring) retire(worker, SIGTERM, config.graceful_timeout);
      }
      for (int i = 0; i < target && try_spawn_worker(); ++i) {
      }
      break;
    case SIGTTIN:
      ++target;
      break;
    case SIGTTOU:
      target = std::max(1, target - 1);
      break;
    case SIGUSR1:
      reopen_error_log();
      for (auto& [pid, worker] : workers) ::kill(pid, SIGUSR1);
      break;
    case SIGUSR2:
      reexecute();
      break;
    default:
      break;
  }
}

void Arbiter::State::reap_workers() {
  for (auto it = workers.begin(); it != workers.end();) {
    Worker& worker = it->second;
    if (worker.process.is_alive()) {
      ++it;
      continue;
    }
    const int code = worker.process.exitcode().value_or(0);
    const pid_t pid = it->first;
    if (!worker.retiring && !halt) {
      if (code == worker_boot_error) {
        detail::log_error("Worker (pid:" + std::to_string(pid) + ") failed to boot: stopping.");
        halt = worker_boot_error;
      } else if (code == -SIGKILL) {
        detail::log_error("Worker (pid:" + std::to_string(pid) + ") was sent SIGKILL! Perhaps out of memory?");
      } else if (code < 0) {
        const char* name = ::sigabbrev_np(-code);
        detail::log_error("Worker (pid:" + std::to_string(pid) + ") was sent SIG" + (name ? name : std::to_string(-code)) + "!");
      } else if (code != 0) {
        detail::log_error("Worker (pid:" + std::to_string(pid) + ") exited with code " + std::to_string(code) + ".");
      }
      // Workers dying as fast as they start would spin: wait longer each time (to 10 s).
      const std::int64_t lived = detail::heartbeat_now() - worker.started;
      if (code != 0 && code != -SIGKILL && lived < seconds_to_ns(1)) {
        quick_deaths = std::min(quick_deaths + 1, 7);
        respawn_after = detail::heartbeat_now() + seconds_to_ns(0.1 * (1 << quick_deaths));
      } else {
        quick_deaths = 0;
      }
    }
    worker.process.close();
    board.release(worker.slot);
    it = workers.erase(it);
  }
}

void Arbiter::State::murder_workers() {
  const std::int64_t now = detail::heartbeat_now();
  for (auto& [pid, worker] : workers) {
    if (worker.retiring) {
      if (now >= worker.kill_at) ::kill(pid, SIGKILL);
      continue;
    }
    const std::int64_t last = board.last_beat(worker.slot);
    if (now - last > seconds_to_ns(config.timeout)) {
      detail::log_error("WORKER TIMEOUT (pid:" + std::to_string(pid) + ")");
      ::kill(pid, SIGKILL);
      worker.retiring = true;  // replaced now, reaped when it is gone
      worker.kill_at = now;
    }
  }
}

void Arbiter::State::manage_workers() {
  int live = 0;
  for (const auto& [pid, worker] : workers) live += worker.retiring ? 0 : 1;
  while (live < target && detail::heartbeat_now() >= respawn_after) {
    if (!try_spawn_worker()) {
      target = std::max(1, live);
      break;
    }
    ++live;
  }
  while (live > target) {
    // TTOU retires the oldest, as Gunicorn does.
    Worker* oldest = nullptr;
    for (auto& [pid, worker] : workers) {
      if (!worker.retiring && (!oldest || worker.age < oldest->age)) oldest = &worker;
    }
    retire(*oldest, SIGTERM, config.graceful_timeout);
    --live;
  }
}

void Arbiter::State::stop() {
  // Stop listening first (a Unix socket's path goes), then ask the workers to finish.
  detail::close_listeners(listeners, true);
  const int signum = graceful ? SIGTERM : SIGQUIT;
  for (auto& [pid, worker] : workers) retire(worker, signum, config.graceful_timeout);
  while (!workers.empty()) {
    std::vector<int> sentinels;
    for (auto& [pid, worker] : workers) sentinels.push_back(worker.process.sentinel());
    mp::connection::wait(sentinels, std::chrono::milliseconds(100));
    for (auto it = workers.begin(); it != workers.end();) {
      if (it->second.process.is_alive()) {
        if (detail::heartbeat_now() >= it->second.kill_at) ::kill(it->first, SIGKILL);
        ++it;
      } else {
        it->second.process.close();
        board.release(it->second.slot);
        it = workers.erase(it);
      }
    }
  }
}

void Arbiter::State::reexecute() {
  if (config.argv.empty()) {
    detail::log_error("USR2: Config::argv is empty, so there is no program to re-execute");
    return;
  }
  std::string fds;
  for (const auto& listener : listeners) {  // two appends: GCC 12's -Wrestrict misfires on "," + temporary
    if (!fds.empty()) fds += ',';
    fds += std::to_string(listener.fd);
  }
  const pid_t child = ::fork();
  if (child < 0) {
    detail::log_error(std::string("USR2: fork failed: ") + std::strerror(errno));
    return;
  }
  if (child > 0) {
    detail::log_info("Forked the new master (pid: " + std::to_string(child) + ")");
    return;
  }
  for (const auto& listener : listeners) ::fcntl(listener.fd, F_SETFD, 0);
  ::setenv(detail::inherited_fds_variable, fds.c_str(), 1);
  sigset_t set = handled_set();
  ::sigprocmask(SIG_UNBLOCK, &set, nullptr);
  for (int signum : handled_signals) ::signal(signum, SIG_DFL);
  std::vector<char*> args;
  for (auto& arg : config.argv) args.push_back(arg.data());
  args.push_back(nullptr);
  ::execv("/proc/self/exe", args.data());
  ::_exit(127);
}

void Arbiter::State::reopen_error_log() {
  if (config.error_logfile.empty() || config.error_logfile == "-") return;
  const int fd = ::open(config.error_logfile.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) raise_os_error(errno, "cannot open the error log " + config.error_logfile);
  ::dup2(fd, STDERR_FILENO);
  ::close(fd);
}

Arbiter::Arbiter(Application application, Config config) : state_(std::make_unique<State>()) {
  state_->application = std::move(application);
  state_->config = std::move(config);
}

Arbiter::~Arbiter() {
  if (state_->pipe_read >= 0) {
    signal_pipe_write.store(-1);
    ::close(state_->pipe_read);
    ::close(state_->pipe_write);
  }
}

int Arbiter::run() {
  State& s = *state_;
  const Config& config = s.config;
  detail::parse_worker_class(config.worker_class);
  if (config.workers < 1) throw ValueError("workers must be at least 1");
  if (config.threads < 1) throw ValueError("threads must be at least 1");
  if (config.timeout <= 0 || config.graceful_timeout < 0) throw ValueError("timeout must be positive");
  if (config.body_buffer_size < 0) throw ValueError("body_buffer_size must not be negative");
  if (s.pipe_read >= 0) throw RuntimeError("Arbiter.run() may be called only once");
  s.reopen_error_log();
  s.listeners = detail::open_listeners(config.bind, config.backlog);
  int fds[2];
  if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) raise_os_error(errno, "pipe");
  s.pipe_read = fds[0];
  s.pipe_write = fds[1];
  signal_pipe_write.store(s.pipe_write);
  struct sigaction action {};
  action.sa_handler = queue_signal;
  action.sa_flags = SA_RESTART;
  sigemptyset(&action.sa_mask);
  for (int signum : handled_signals) ::sigaction(signum, &action, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  detail::log_info("Starting " + config.proc_name + " (pyconc " + "0.1.0" + ")");
  for (const auto& listener : s.listeners) {
    detail::log_info("Listening at: " + listener.url + " (" + std::to_string(::getpid()) + ")");
  }
  detail::log_info("Using worker: " + config.worker_class);
  s.target = config.workers;
  s.manage_workers();
  while (!s.halt) {
    std::vector<int> waitables{s.pipe_read};
    for (auto& [pid, worker] : s.workers) waitables.push_back(worker.process.sentinel());
    mp::connection::wait(waitables, std::chrono::milliseconds(200));
    unsigned char signals[64];
    for (ssize_t n; (n = ::read(s.pipe_read, signals, sizeof signals)) > 0;) {
      for (ssize_t i = 0; i < n; ++i) s.handle_signal(signals[i]);
    }
    s.reap_workers();
    if (s.halt) break;
    s.murder_workers();
    s.manage_workers();
  }
  detail::log_info("Shutting down: Master");
  s.stop();
  return *s.halt;
}

}  // namespace pyconc::server
