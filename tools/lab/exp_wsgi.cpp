// wsgi: "a WSGI server's capacity is workers x threads" (seed 003, Gunicorn's sizing
// rule), and what happens when the kernel's accept queue overflows. pyconc-serve (the
// prefork server, beside this program) serves the demo application's /db, a 10 ms
// handler, to closed-loop clients on loopback; each (workers, threads) shape should top
// out near workers x threads / 10 ms. Then one sync worker with a tiny --backlog meets a
// burst of connections: the kernel drops the SYNs it cannot queue, and those clients wait
// for TCP's one-second SYN retransmission.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <pyconc/threading.hpp>

#include "experiments.hpp"

namespace pyconc::lab {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr std::chrono::seconds kPatience{40};

std::filesystem::path serve_program() {
  if (const char* chosen = std::getenv("PYCONC_SERVE")) return chosen;
  return std::filesystem::read_symlink("/proc/self/exe").parent_path() / "pyconc-serve";
}

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

int connect_to(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    return -1;
  }
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  // A reply that never comes fails the request, not the lab. Long enough to outwait TCP's
  // SYN-ACK retransmissions (1, 2, 4, 8 s) after an accept-queue overflow.
  timeval patience{kPatience.count(), 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &patience, sizeof patience);
  return fd;
}

// One GET and its whole response (by Content-Length). False on any failure.
bool get(int fd, const std::string& path, bool keep_alive) {
  const std::string request = "GET " + path + " HTTP/1.1\r\nHost: lab\r\n" +
                              (keep_alive ? "" : "Connection: close\r\n") + "\r\n";
  if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) != ssize_t(request.size()))
    return false;
  std::string response;
  char buffer[4096];
  for (;;) {
    const auto end = response.find("\r\n\r\n");
    if (end != std::string::npos) {
      const auto field = response.find("Content-Length: ");
      const std::size_t body = field == std::string::npos ? 0 : std::stoul(response.substr(field + 16));
      if (response.size() >= end + 4 + body) return response.compare(9, 3, "200") == 0;
    }
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) return false;
    response.append(buffer, n);
  }
}

class Server {
 public:
  Server(const std::vector<std::string>& arguments, int port) : port_(port) {
    const auto program = serve_program();
    if (!std::filesystem::exists(program))
      throw std::runtime_error("pyconc-serve not found at " + program.string() +
                               " (set PYCONC_SERVE)");
    std::vector<std::string> all = {program.string(), "-b", "127.0.0.1:" + std::to_string(port),
                                    "--error-logfile", "/dev/null"};
    all.insert(all.end(), arguments.begin(), arguments.end());
    pid_ = ::fork();
    if (pid_ == 0) {
      std::vector<char*> argv;
      for (auto& argument : all) argv.push_back(argument.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    try {
      wait_until_serving();
    } catch (...) {
      stop();  // no destructor runs for a constructor that throws: reap it here
      throw;
    }
  }
  ~Server() { stop(); }
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

 private:
  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }

  void wait_until_serving() {
    for (auto deadline = Clock::now() + 20s; Clock::now() < deadline;) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;  // reaped: stop() must not signal a pid that may be reused
        throw std::runtime_error("pyconc-serve exited before serving");
      }
      if (const int fd = connect_to(port_); fd >= 0) {
        const bool ok = get(fd, "/", false);
        ::close(fd);
        if (ok) return;
      }
      std::this_thread::sleep_for(20ms);
    }
    throw std::runtime_error("pyconc-serve did not start serving");
  }

  int port_;
  pid_t pid_;
};

struct Load {
  long completed = 0;
  long failed = 0;
  double per_second = 0;
  double p50_ms = 0;
  double p99_ms = 0;
};

// `clients` closed-loop keep-alive clients on /db for `duration`.
Load closed_loop(int port, int clients, std::chrono::milliseconds duration) {
  std::vector<std::vector<double>> latencies(clients);
  std::atomic<long> failed{0};
  const auto stop_at = Clock::now() + duration;
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c)
    threads.emplace_back([&, c] {
      int fd = connect_to(port);
      while (Clock::now() < stop_at) {
        if (fd < 0 && (fd = connect_to(port)) < 0) {
          failed.fetch_add(1);
          std::this_thread::sleep_for(10ms);
          continue;
        }
        const auto sent = Clock::now();
        if (get(fd, "/db", true)) {
          latencies[c].push_back(std::chrono::duration<double, std::milli>(Clock::now() - sent).count());
        } else {
          failed.fetch_add(1);
          ::close(fd);
          fd = -1;
        }
      }
      if (fd >= 0) ::close(fd);
    });
  for (auto& thread : threads) thread.join();
  std::vector<double> all;
  for (auto& mine : latencies) all.insert(all.end(), mine.begin(), mine.end());
  Load load;
  load.completed = long(all.size());
  load.failed = failed.load();
  load.per_second = all.size() / std::chrono::duration<double>(duration).count();
  load.p50_ms = percentile(all, 0.5);
  load.p99_ms = percentile(all, 0.99);
  return load;
}

void capacity(const Options& options, Findings& findings) {
  struct Shape {
    int workers, threads;
  };
  const std::vector<Shape> shapes =
      options.quick ? std::vector<Shape>{{1, 1}, {1, 4}, {2, 4}}
                    : std::vector<Shape>{{1, 1}, {1, 4}, {2, 4}, {2, 8}, {4, 8}, {4, 16}};
  const auto duration = options.quick ? 1500ms : 5000ms;
  Table table("gthread workers x threads on the 10 ms endpoint, closed-loop clients (twice "
              "the slots) for " + std::to_string(duration.count()) + " ms",
              {"workers x threads", "clients", "req/s", "ideal req/s", "of ideal", "p50 ms",
               "p99 ms", "failed"});
  Chart chart("capacity", "Throughput against workers x threads (10 ms handler)",
              "workers x threads", "requests per second");
  Series measured{"measured", {}}, ideal_series{"workers x threads / 10 ms", {}};
  for (const auto& shape : shapes) {
    const int slots = shape.workers * shape.threads;
    const int port = free_port();
    Server server({"-w", std::to_string(shape.workers), "-k", "gthread", "--threads",
                   std::to_string(shape.threads)},
                  port);
    const int clients = std::max(2, 2 * slots);
    const Load load = closed_loop(port, clients, duration);
    const double ideal = slots * 100.0;
    const std::string name = std::to_string(shape.workers) + " x " + std::to_string(shape.threads);
    table.add({name, std::to_string(clients), fixed(load.per_second, 0), fixed(ideal, 0),
               fixed(100 * load.per_second / ideal, 0) + "%", fixed(load.p50_ms, 1),
               fixed(load.p99_ms, 1), std::to_string(load.failed)});
    const std::string key = "capacity." + std::to_string(shape.workers) + "x" +
                            std::to_string(shape.threads);
    findings.fact(key + ".per_second", load.per_second);
    findings.fact(key + ".of_ideal", load.per_second / ideal);
    findings.fact(key + ".failed", load.failed);
    measured.points.emplace_back(slots, load.per_second);
    ideal_series.points.emplace_back(slots, ideal);
  }
  findings.table(std::move(table));
  chart.series = {measured, ideal_series};
  findings.chart(std::move(chart));
}

struct Burst {
  long completed = 0;
  long no_connection = 0;  // connect() failed
  long no_reply = 0;       // connected, but the reply never came whole
  long slow_connects = 0;  // connect() took >= 1 s: the kernel dropped the SYN at least once
  double connect_max_ms = 0;
  double p50_ms = 0, max_ms = 0;
};

// `clients` connect at once, each sends one request to /db and reads the reply.
Burst burst(int port, int clients) {
  enum class Fate { completed, no_connection, no_reply };
  struct Client {
    Fate fate = Fate::no_connection;
    double connect_ms = 0, total_ms = 0;
  };
  std::vector<Client> results(clients);
  threading::Barrier start(clients);
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c)
    threads.emplace_back([&, c] {
      start.wait();
      const auto began = Clock::now();
      auto since = [&] { return std::chrono::duration<double, std::milli>(Clock::now() - began).count(); };
      const int fd = connect_to(port);
      results[c].connect_ms = since();
      if (fd < 0) return;
      results[c].fate = get(fd, "/db", false) ? Fate::completed : Fate::no_reply;
      results[c].total_ms = since();
      ::close(fd);
    });
  for (auto& thread : threads) thread.join();
  Burst out;
  std::vector<double> done;
  for (const auto& client : results) {
    if (client.connect_ms >= 1000) ++out.slow_connects;
    out.connect_max_ms = std::max(out.connect_max_ms, client.connect_ms);
    if (client.fate == Fate::no_connection) ++out.no_connection;
    if (client.fate == Fate::no_reply) ++out.no_reply;
    if (client.fate == Fate::completed) done.push_back(client.total_ms);
  }
  out.completed = long(done.size());
  out.p50_ms = percentile(done, 0.5);
  out.max_ms = done.empty() ? 0 : *std::max_element(done.begin(), done.end());
  return out;
}

void overflow(const Options& options, Findings& findings) {
  const int clients = options.quick ? 32 : 128;
  Table table("A burst of " + std::to_string(clients) + " connections at one sync worker "
              "(10 ms per request)",
              {"--backlog", "completed", "connect failed", "no reply in " + std::to_string(kPatience.count()) + " s", "connects >= 1 s",
               "slowest connect ms", "p50 ms", "max ms"});
  for (int backlog : {2048, 4}) {
    const int port = free_port();
    Server server({"-w", "1", "-k", "sync", "--backlog", std::to_string(backlog)}, port);
    const Burst result = burst(port, clients);
    table.add({std::to_string(backlog), std::to_string(result.completed),
               std::to_string(result.no_connection), std::to_string(result.no_reply),
               std::to_string(result.slow_connects), fixed(result.connect_max_ms, 0),
               fixed(result.p50_ms, 1), fixed(result.max_ms, 1)});
    const std::string key = "overflow.backlog" + std::to_string(backlog);
    findings.fact(key + ".completed", result.completed);
    findings.fact(key + ".no_connection", result.no_connection);
    findings.fact(key + ".no_reply", result.no_reply);
    findings.fact(key + ".slow_connects", result.slow_connects);
    findings.fact(key + ".max_ms", result.max_ms);
  }
  findings.fact("overflow.clients", clients);
  findings.table(std::move(table));
}

}  // namespace

void run_wsgi(const Options& options, Findings& findings) {
  capacity(options, findings);
  overflow(options, findings);
  findings.note("Throughput follows workers x threads / 10 ms until the clients or the CPUs "
                "run out. With a backlog the kernel can queue, a burst only waits its turn "
                "(connects are immediate; replies come one per 10 ms). Past it, Linux drops "
                "the SYNs it cannot queue, and those clients connect only after TCP's SYN "
                "retransmission (1 s, then 2, 4, ...). A client whose handshake looked "
                "complete to it, but whose last ACK the full queue dropped, waits for the "
                "server's SYN-ACK retransmissions instead: its reply comes seconds late, or "
                "not within the patience above.");
}

}  // namespace pyconc::lab
