// Test helpers: pyconc-serve run as a real process (its own process group, its log in a
// file the test reads), and a blocking HTTP/1.1 client on 127.0.0.1.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace server_test {

class ServeProcess {
 public:
  // Starts pyconc-serve with --test-routes, `args` and -b 127.0.0.1:0 (unless args bind),
  // and waits until it is listening (unless told not to: a start that must fail).
  explicit ServeProcess(std::vector<std::string> args, bool wait_listening = true);
  // Whatever is left is killed, workers included (the whole process group).
  ~ServeProcess();
  ServeProcess(const ServeProcess&) = delete;
  ServeProcess& operator=(const ServeProcess&) = delete;

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  void signal(int signum) const;
  std::string log() const;
  // How many times `text` occurs in the log.
  int count(const std::string& text) const;
  // Waits until `text` occurs at least `times` times; false after `timeout`.
  bool wait_for_log(const std::string& text, int times = 1, std::chrono::seconds timeout = std::chrono::seconds(60)) const;
  // The arbiter's exit status, once it ends (none after `timeout`).
  std::optional<int> wait_exit(std::chrono::seconds timeout = std::chrono::seconds(60));
  // The pids of "Booting worker with pid: N" lines, in order.
  std::vector<pid_t> booted_workers() const;

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  std::string log_path_;
  std::optional<int> status_;
};

struct HttpResponse {
  int status = 0;         // 0: no response (the connection closed or timed out first)
  std::string head;       // status line and fields
  std::string body;       // de-chunked
};

class HttpClient {
 public:
  explicit HttpClient(int port, std::chrono::milliseconds timeout = std::chrono::seconds(30));
  explicit HttpClient(const std::string& unix_path, std::chrono::milliseconds timeout = std::chrono::seconds(30));
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  bool connected() const { return fd_ >= 0; }
  bool send(const std::string& bytes);
  // Reads one response (Content-Length, chunked, or up to the close).
  HttpResponse read_response(bool head_request = false);
  // True when the server closed the connection (read returns 0) before `timeout`.
  bool closed_by_peer(std::chrono::milliseconds timeout);
  int fd() const { return fd_; }

 private:
  bool fill();
  int fd_ = -1;
  std::string buffer_;
};

// One request on a connection of its own ("Connection: close").
HttpResponse get(int port, const std::string& target);
std::string request(const std::string& method, const std::string& target, const std::string& extra_headers = "",
                    const std::string& body = "");

}  // namespace server_test
