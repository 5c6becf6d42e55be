// ServeProcess and HttpClient (serve_process.hpp).
#include "serve_process.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace server_test {

namespace {

std::string temp_log_path() {
  static int counter = 0;
  return "/tmp/pyconc-serve-test-" + std::to_string(::getpid()) + "-" + std::to_string(++counter) + ".log";
}

void set_timeouts(int fd, std::chrono::milliseconds timeout) {
  timeval tv{};
  tv.tv_sec = timeout.count() / 1000;
  tv.tv_usec = (timeout.count() % 1000) * 1000;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

}  // namespace

ServeProcess::ServeProcess(std::vector<std::string> args, bool wait_listening) : log_path_(temp_log_path()) {
  std::vector<std::string> argv{PYCONC_SERVE, "--test-routes"};
  bool binds = false;
  for (const auto& arg : args) binds = binds || arg == "-b" || arg == "--bind";
  if (!binds) {
    argv.push_back("-b");
    argv.push_back("127.0.0.1:0");
  }
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> pointers;
  for (auto& arg : argv) pointers.push_back(arg.data());
  pointers.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  posix_spawnattr_setpgroup(&attributes, 0);  // its own group: the destructor ends it all
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP);
  const int error = ::posix_spawn(&pid_, PYCONC_SERVE, &actions, &attributes, pointers.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  if (error != 0) throw std::runtime_error(std::string("posix_spawn: ") + std::strerror(error));
  if (!wait_listening) return;
  if (!wait_for_log("Listening at: ")) throw std::runtime_error("pyconc-serve did not start:\n" + log());
  std::smatch match;
  const std::string text = log();
  if (std::regex_search(text, match, std::regex(R"(Listening at: http://127\.0\.0\.1:(\d+))"))) {
    port_ = std::stoi(match[1]);
  }
}

ServeProcess::~ServeProcess() {
  if (!status_) {
    ::kill(-pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  } else {
    ::kill(-pid_, SIGKILL);  // a worker left behind by a failed test
  }
  // The workers' sanitizer reports land in this log, not in the test's output: fail on them.
  const std::string text = log();
  for (const char* mark : {"WARNING: ThreadSanitizer", "ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"}) {
    if (text.find(mark) != std::string::npos) {
      ADD_FAILURE() << "a sanitizer reported in pyconc-serve:\n" << text;
      break;
    }
  }
  ::unlink(log_path_.c_str());
}

void ServeProcess::signal(int signum) const { ::kill(pid_, signum); }

std::string ServeProcess::log() const {
  std::ifstream file(log_path_);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

int ServeProcess::count(const std::string& text) const {
  const std::string all = log();
  int n = 0;
  for (std::size_t at = all.find(text); at != std::string::npos; at = all.find(text, at + text.size())) ++n;
  return n;
}

bool ServeProcess::wait_for_log(const std::string& text, int times, std::chrono::seconds timeout) const {
  const auto give_up = std::chrono::steady_clock::now() + timeout;
  while (count(text) < times) {
    if (std::chrono::steady_clock::now() > give_up) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

std::optional<int> ServeProcess::wait_exit(std::chrono::seconds timeout) {
  const auto give_up = std::chrono::steady_clock::now() + timeout;
  while (!status_) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      break;
    }
    if (std::chrono::steady_clock::now() > give_up) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return status_;
}

std::vector<pid_t> ServeProcess::booted_workers() const {
  std::vector<pid_t> pids;
  const std::string text = log();
  std::regex booted(R"(Booting worker with pid: (\d+))");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), booted); it != std::sregex_iterator(); ++it) {
    pids.push_back(std::stoi((*it)[1]));
  }
  return pids;
}

HttpClient::HttpClient(int port, std::chrono::milliseconds timeout) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  set_timeouts(fd_, timeout);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

HttpClient::HttpClient(const std::string& unix_path, std::chrono::milliseconds timeout) {
  fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  set_timeouts(fd_, timeout);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, unix_path.c_str(), sizeof address.sun_path - 1);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

HttpClient::~HttpClient() {
  if (fd_ >= 0) ::close(fd_);
}

bool HttpClient::send(const std::string& bytes) {
  std::size_t sent = 0;
  while (fd_ >= 0 && sent < bytes.size()) {
    const ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<std::size_t>(n);
  }
  return fd_ >= 0;
}

bool HttpClient::fill() {
  char chunk[16384];
  const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
  if (n <= 0) return false;
  buffer_.append(chunk, static_cast<std::size_t>(n));
  return true;
}

HttpResponse HttpClient::read_response(bool head_request) {
  HttpResponse response;
  if (fd_ < 0) return response;
  std::size_t end;
  while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
    if (!fill()) return response;
  }
  response.head = buffer_.substr(0, end + 2);
  buffer_.erase(0, end + 4);
  response.status = std::atoi(response.head.c_str() + 9);
  std::string lower = response.head;
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (response.status == 100 || head_request || response.status == 204 || response.status == 304) return response;
  if (const auto at = lower.find("content-length: "); at != std::string::npos) {
    const std::size_t length = std::stoul(lower.substr(at + 16));
    while (buffer_.size() < length) {
      if (!fill()) {
        response.status = 0;
        return response;
      }
    }
    response.body = buffer_.substr(0, length);
    buffer_.erase(0, length);
  } else if (lower.find("transfer-encoding: chunked") != std::string::npos) {
    for (;;) {
      while (buffer_.find("\r\n") == std::string::npos) {
        if (!fill()) return response.status = 0, response;
      }
      const std::size_t line = buffer_.find("\r\n");
      const std::size_t size = std::stoul(buffer_.substr(0, line), nullptr, 16);
      while (buffer_.size() < line + 2 + size + 2) {
        if (!fill()) return response.status = 0, response;
      }
      response.body += buffer_.substr(line + 2, size);
      buffer_.erase(0, line + 2 + size + 2);
      if (size == 0) break;
    }
  } else {
    while (fill()) {
    }
    response.body = std::move(buffer_);
    buffer_.clear();
  }
  return response;
}

bool HttpClient::closed_by_peer(std::chrono::milliseconds timeout) {
  const auto give_up = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < give_up) {
    char byte;
    const ssize_t n = ::recv(fd_, &byte, 1, 0);
    if (n == 0) return true;
    if (n < 0 && errno == ECONNRESET) return true;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return true;
  }
  return false;
}

std::string request(const std::string& method, const std::string& target, const std::string& extra_headers,
                    const std::string& body) {
  std::string text = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra_headers;
  if (!body.empty()) text += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  return text + "\r\n" + body;
}

HttpResponse get(int port, const std::string& target) {
  HttpClient client(port);
  if (!client.send(request("GET", target, "Connection: close\r\n"))) return {};
  return client.read_response();
}

}  // namespace server_test
