// TCP echo on loopback: one client program for every server, 64 connections, each sending a
// 64-byte message and waiting for it to come back, over and over (side_by_side.hpp: each
// contender measured in a fresh process of its own; the server is a child of that process).
//
//   echo_bench [--rounds 5] [--load 2] [--size MESSAGES]
//
// Servers: pyconc asyncio streams, Asio C++20 coroutines, Python asyncio streams. The client
// is plain non-blocking sockets and poll(), the same for all.
#include <asio.hpp>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "pyconc/asyncio.hpp"
#include "side_by_side.hpp"

namespace asyncio = pyconc::asyncio;

namespace {

constexpr int connections = 64;
constexpr std::size_t message_size = 64;

// --- the servers: each prints its port on stdout, then serves until killed ----------------

asyncio::Coroutine<void> pyconc_echo(asyncio::StreamReader reader, asyncio::StreamWriter writer) {
  for (;;) {
    std::string data = co_await reader.read(65536);
    if (data.empty()) break;
    writer.write(data);
    co_await writer.drain();
  }
  writer.close();
}

int serve_pyconc() {
  asyncio::run([]() -> asyncio::Coroutine<void> {
    auto server = co_await asyncio::start_server(pyconc_echo, "127.0.0.1", 0);
    std::printf("%d\n", server.sockets().at(0).port);
    std::fflush(stdout);
    co_await server.serve_forever();
  });
  return 0;
}

asio::awaitable<void> asio_echo(asio::ip::tcp::socket socket) {
  char data[65536];
  try {
    for (;;) {
      const std::size_t n = co_await socket.async_read_some(asio::buffer(data), asio::use_awaitable);
      co_await asio::async_write(socket, asio::buffer(data, n), asio::use_awaitable);
    }
  } catch (const std::exception&) {
    // the client went: end this connection
  }
}

asio::awaitable<void> asio_listen(asio::ip::tcp::acceptor& acceptor) {
  for (;;) {
    auto socket = co_await acceptor.async_accept(asio::use_awaitable);
    socket.set_option(asio::ip::tcp::no_delay(true));
    asio::co_spawn(acceptor.get_executor(), asio_echo(std::move(socket)), asio::detached);
  }
}

int serve_asio() {
  asio::io_context context(1);
  asio::ip::tcp::acceptor acceptor(context, {asio::ip::make_address("127.0.0.1"), 0});
  std::printf("%d\n", acceptor.local_endpoint().port());
  std::fflush(stdout);
  asio::co_spawn(context, asio_listen(acceptor), asio::detached);
  context.run();
  return 0;
}

const char* python_server =
    "import asyncio, sys\n"
    "async def echo(reader, writer):\n"
    "    while data := await reader.read(65536):\n"
    "        writer.write(data)\n"
    "        await writer.drain()\n"
    "    writer.close()\n"
    "async def main():\n"
    "    server = await asyncio.start_server(echo, '127.0.0.1', 0)\n"
    "    print(server.sockets[0].getsockname()[1], flush=True)\n"
    "    await server.serve_forever()\n"
    "if sys.argv[1:] == ['uvloop']:\n"
    "    import uvloop\n"
    "    uvloop.install()\n"
    "asyncio.run(main())\n";

// --- the one client ------------------------------------------------------------------------

struct Server {
  pid_t pid = -1;
  int port = 0;
};

// Starts `command` (a shell command) and reads the port it prints.
Server start_server(const std::string& command) {
  int out[2];
  if (::pipe(out) != 0) return {};
  Server server;
  server.pid = ::fork();
  if (server.pid == 0) {
    ::dup2(out[1], 1);
    ::close(out[0]);
    ::close(out[1]);
    ::execl("/bin/sh", "sh", "-c", ("exec " + command).c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(out[1]);
  char text[32] = {};
  std::size_t got = 0;
  while (got < sizeof text - 1) {
    const ssize_t n = ::read(out[0], text + got, 1);
    if (n <= 0 || text[got] == '\n') break;
    ++got;
  }
  ::close(out[0]);
  server.port = std::atoi(text);
  return server;
}

void stop_server(const Server& server) {
  if (server.pid <= 0) return;
  ::kill(server.pid, SIGKILL);
  ::waitpid(server.pid, nullptr, 0);
}

// Messages per second: `total` round trips spread over the connections, each connection
// keeping one message in flight.
double run_client(int port, long total) {
  std::vector<int> fds;
  sockaddr_in where{};
  where.sin_family = AF_INET;
  where.sin_port = htons(static_cast<std::uint16_t>(port));
  where.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  for (int i = 0; i < connections; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&where), sizeof where) != 0) return -1;
    const int on = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    fds.push_back(fd);
  }
  const std::string message(message_size, 'm');
  std::vector<std::size_t> pending(connections, 0);  // bytes still to come back
  std::vector<pollfd> polls(connections);
  long sent = 0, done = 0;
  char buffer[65536];
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < connections && sent < total; ++i, ++sent) {
    if (::send(fds[i], message.data(), message.size(), 0) != static_cast<ssize_t>(message.size())) return -1;
    pending[i] = message.size();
  }
  while (done < total) {
    for (int i = 0; i < connections; ++i) polls[i] = {fds[i], static_cast<short>(pending[i] ? POLLIN : 0), 0};
    if (::poll(polls.data(), polls.size(), 10000) <= 0) return -1;
    for (int i = 0; i < connections; ++i) {
      if (!(polls[i].revents & POLLIN)) continue;
      const ssize_t n = ::recv(fds[i], buffer, sizeof buffer, 0);
      if (n <= 0) return -1;
      pending[i] -= static_cast<std::size_t>(n);
      if (pending[i] > 0) continue;
      ++done;
      if (sent < total) {
        if (::send(fds[i], message.data(), message.size(), 0) != static_cast<ssize_t>(message.size())) return -1;
        pending[i] = message.size();
        ++sent;
      }
    }
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (int fd : fds) ::close(fd);
  return static_cast<double>(total) / seconds / 1000.0;
}

std::string self_path() {
  char exe[4096];
  const ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
  exe[n > 0 ? n : 0] = '\0';
  return exe;
}

double measure(const std::string& server_command, long total) {
  const Server server = start_server(server_command);
  if (server.port <= 0) {
    stop_server(server);
    return -1;
  }
  const double rate = run_client(server.port, total);
  stop_server(server);
  return rate;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::string(argv[1]) == "serve") {
    const std::string kind = argc > 2 ? argv[2] : "";
    if (kind == "pyconc") return serve_pyconc();
    if (kind == "asio") return serve_asio();
    return 2;
  }
  const std::string self = "'" + self_path() + "'";
  const std::string python_path = "/tmp/pyconc-echo-server-" + std::to_string(::getpid()) + ".py";
  if (std::FILE* f = std::fopen(python_path.c_str(), "w")) {
    std::fputs(python_server, f);
    std::fclose(f);
  }
  // Debian's interpreter, whose python3-uvloop package the uvloop row needs (a python3 earlier
  // on PATH, pyenv's say, may not have it).
  const std::string python = "/usr/bin/python3 " + python_path;
  std::vector<bench::Contender> contenders{
      {"pyconc asyncio streams", [self](long n) { return measure(self + " serve pyconc", n); }},
      {"Asio C++20 coroutines", [self](long n) { return measure(self + " serve asio", n); }},
      {"Python asyncio streams", [python](long n) { return measure(python, n / 4); }}};
  // The same Python server on uvloop (Debian's python3-uvloop, which `make bench` installs).
  if (std::system("/usr/bin/python3 -c 'import uvloop' 2>/dev/null") == 0) {
    contenders.push_back(
        {"Python asyncio streams on uvloop", [python](long n) { return measure(python + " uvloop", n / 2); }});
  } else {
    std::fprintf(stderr, "uvloop is not installed (scripts/install-deps --bench): its row is left out\n");
  }
  const int rc = bench::run_comparison(
      argc, argv,
      {"TCP echo on loopback, 64 connections, 64-byte messages, %ld round trips", "k msg/s", true, 200000,
       std::move(contenders)});
  std::remove(python_path.c_str());
  return rc;
}
