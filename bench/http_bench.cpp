// HTTP servers side by side under wrk on loopback: pyconc-serve's three worker kinds against
// nginx, Gunicorn (sync, gthread) and Uvicorn (uvloop + httptools), every one with 2 workers
// and in its own fresh processes (started, measured, stopped per round).
//
//   http_bench hello  [--rounds N] [--load K] [--size SECONDS]   hello world, wrk -t2 -c64
//   http_bench sizing WxT [--rounds N] [--size SECONDS]          the 10 ms endpoint, wrk -c128,
//                                                                 W workers x T threads
// Needs wrk, nginx, gunicorn, uvicorn, python3-uvloop, python3-httptools (scripts/install-deps
// --bench). Prints req/s and p99 latency; the ratios say how many times better pyconc is.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <thread>

#include "side_by_side.hpp"

namespace {

std::string peers_dir() { return PYCONC_BENCH_HTTP_PEERS; }

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t length = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

bool answers(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = false;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) {
    const char request[] = "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    if (::send(fd, request, sizeof request - 1, MSG_NOSIGNAL) > 0) {
      char reply[64] = {};
      ok = ::recv(fd, reply, sizeof reply - 1, 0) > 12 && std::strstr(reply, " 200 ") != nullptr;
    }
  }
  ::close(fd);
  return ok;
}

// A server for one measurement: its own process group, output discarded, gone at the end.
class Server {
 public:
  explicit Server(const std::vector<std::string>& argv) {
    pid_ = ::fork();
    if (pid_ == 0) {
      ::setpgid(0, 0);
      const int null = ::open("/dev/null", O_RDWR);
      ::dup2(null, 1);
      ::dup2(null, 2);
      std::vector<char*> args;
      for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
      args.push_back(nullptr);
      ::execvp(args[0], args.data());
      ::_exit(127);
    }
    ::setpgid(pid_, pid_);
  }
  ~Server() {
    ::kill(-pid_, SIGTERM);
    for (int i = 0; i < 100; ++i) {
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ::kill(-pid_, SIGKILL);
    ::waitpid(pid_, nullptr, WNOHANG);
  }

 private:
  pid_t pid_;
};

double to_ms(double value, const std::string& unit) {
  if (unit == "us") return value / 1000;
  if (unit == "s") return value * 1000;
  return value;
}

// wrk's figures: requests/s and the 99th percentile latency in ms.
bench::Measurement run_wrk(int port, const std::string& path, int connections, long seconds) {
  const std::string command = "wrk -t2 -c" + std::to_string(connections) + " -d" + std::to_string(seconds) +
                              "s --timeout 30s --latency http://127.0.0.1:" + std::to_string(port) + path + " 2>&1";
  std::FILE* pipe = popen(command.c_str(), "r");
  std::string output;
  char line[512];
  while (pipe && std::fgets(line, sizeof line, pipe)) output += line;
  if (pipe) pclose(pipe);
  bench::Measurement m;
  std::smatch match;
  if (std::regex_search(output, match, std::regex(R"(Requests/sec:\s+([\d.]+))"))) m.value = std::stod(match[1]);
  if (std::regex_search(output, match, std::regex(R"(99%\s+([\d.]+)(us|ms|s))"))) {
    m.secondary = to_ms(std::stod(match[1]), match[2]);
  }
  // A server that failed requests is not measured: wrk reports them as errors or non-2xx.
  if (output.find("Non-2xx") != std::string::npos) m.value = -1;
  return m;
}

bench::Measurement measure(std::vector<std::string> argv, int port, const std::string& path, int connections,
                           long seconds) {
  Server server(argv);
  for (int i = 0; i < 400 && !answers(port); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  if (!answers(port)) return {};
  run_wrk(port, path, connections, 1);  // warm-up: every worker booted and touched
  return run_wrk(port, path, connections, seconds);
}

std::string nginx_config(int port) {
  const std::string dir = "/tmp/pyconc-bench-nginx-" + std::to_string(::getpid());
  ::mkdir(dir.c_str(), 0755);
  std::ofstream conf(dir + "/nginx.conf");
  conf << "worker_processes 2; daemon off; pid " << dir << "/nginx.pid; error_log " << dir << "/error.log;\n"
       << "events { worker_connections 4096; }\n"
       << "http { access_log off; keepalive_requests 1000000; client_body_temp_path " << dir << ";\n"
       << "  proxy_temp_path " << dir << "; fastcgi_temp_path " << dir << "; uwsgi_temp_path " << dir << ";\n"
       << "  scgi_temp_path " << dir << ";\n"
       << "  server { listen 127.0.0.1:" << port << "; location / { return 200 \"Hello, World!\\n\"; } } }\n";
  return dir + "/nginx.conf";
}

std::vector<std::string> pyconc_serve(int port, const std::string& kind, int workers, int threads) {
  return {PYCONC_SERVE, "-b", "127.0.0.1:" + std::to_string(port), "-w", std::to_string(workers), "-k", kind,
          "--threads", std::to_string(threads), "--backlog", "2048"};
}

std::vector<std::string> gunicorn(int port, const std::string& kind, int workers, int threads) {
  return {"gunicorn", "-b", "127.0.0.1:" + std::to_string(port), "-w", std::to_string(workers), "-k", kind,
          "--threads", std::to_string(threads), "--backlog", "2048", "--chdir", peers_dir(), "hello_wsgi:app"};
}

bench::Contender hello_contender(std::string name, std::function<std::vector<std::string>(int)> argv) {
  return {name, nullptr, [argv](long seconds) {
            const int port = free_port();
            return measure(argv(port), port, "/", 64, seconds);
          }};
}

int hello(int argc, char** argv) {
  bench::Comparison cmp{"HTTP hello world, wrk -t2 -c64 -d%lds on loopback, 2 workers each", "req/s", true, 5, {}, {"hello"},
                        "p99 ms"};
  cmp.contenders = {
      hello_contender("pyconc-serve -k asyncio", [](int p) { return pyconc_serve(p, "asyncio", 2, 1); }),
      hello_contender("pyconc-serve -k gthread --threads 4", [](int p) { return pyconc_serve(p, "gthread", 2, 4); }),
      hello_contender("pyconc-serve -k sync", [](int p) { return pyconc_serve(p, "sync", 2, 1); }),
      hello_contender("nginx return 200", [](int p) {
        return std::vector<std::string>{"nginx", "-c", nginx_config(p)};
      }),
      hello_contender("uvicorn uvloop httptools", [](int p) {
        return std::vector<std::string>{"uvicorn", "--workers", "2", "--loop", "uvloop", "--http", "httptools",
                                        "--no-access-log", "--log-level", "warning", "--host", "127.0.0.1",
                                        "--port", std::to_string(p), "--app-dir", peers_dir(), "hello_asgi:app"};
      }),
      hello_contender("gunicorn -k gthread --threads 4", [](int p) { return gunicorn(p, "gthread", 2, 4); }),
      hello_contender("gunicorn -k sync", [](int p) { return gunicorn(p, "sync", 2, 1); }),
  };
  return bench::run_comparison(argc, argv, cmp);
}

// The seeds' sizing question: requests in flight = workers x threads, each 10 ms long, so
// the ceiling is workers x threads x 100 req/s. One comparison per shape (pyconc-serve
// first, Gunicorn gthread second); --size is the seconds per run, SHAPE e.g. 2x4.
int sizing(int argc, char** argv) {
  const std::string shape = argc > 1 ? argv[1] : "";
  const std::size_t x = shape.find('x');
  if (x == std::string::npos) return std::fprintf(stderr, "usage: http_bench sizing WxT [flags]\n"), 2;
  const int workers = std::atoi(shape.c_str()), threads = std::atoi(shape.c_str() + x + 1);
  bench::Comparison cmp{"10 ms endpoint, gthread " + shape + " (ceiling " + std::to_string(workers * threads * 100) +
                            " req/s), wrk -t2 -c128 -d%lds --timeout 30s",
                        "req/s", true, 5, {}, {"sizing", shape}, "p99 ms"};
  for (const std::string server : {"pyconc-serve", "gunicorn"}) {
    cmp.contenders.push_back({server + " " + shape, nullptr, [server, workers, threads](long seconds) {
                                const int port = free_port();
                                auto argv = server == "gunicorn" ? gunicorn(port, "gthread", workers, threads)
                                                                 : pyconc_serve(port, "gthread", workers, threads);
                                return measure(argv, port, "/db", 128, seconds);
                              }});
  }
  return bench::run_comparison(argc - 1, argv + 1, cmp);
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "hello") return hello(argc - 1, argv + 1);
  if (mode == "sizing") return sizing(argc - 1, argv + 1);
  std::fprintf(stderr, "usage: http_bench hello|sizing WxT [--rounds N] [--load K] [--size SECONDS] [--only TEXT]\n");
  return 2;
}
