// The access log in Gunicorn's format language: %(h)s remote address, %(l)s '-', %(u)s user
// ('-'), %(t)s [date], %(r)s request line, %(m)s method, %(U)s path, %(q)s query, %(H)s
// protocol, %(s)s status, %(b)s / %(B)s body bytes, %(f)s referer, %(a)s user agent, %(T)s /
// %(M)s / %(D)s / %(L)s request time in s / ms / µs / decimal s, %(p)s pid. One write(2) per
// line with O_APPEND, so the lines of several workers never interleave.
#pragma once

#include <string>

#include "pyconc/server/http.hpp"

namespace pyconc::server::detail {

struct AccessRecord {
  std::string peer_host;
  std::string method, target, path, query, http_version, referer, user_agent;
  int status = 0;
  std::size_t body_bytes = 0;
  double seconds = 0;
};

class AccessLog {
 public:
  AccessLog(std::string path, std::string format);
  ~AccessLog();
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  bool enabled() const { return fd_ >= 0; }
  void write(const AccessRecord& record);
  // USR1: the file may have been moved away by logrotate; open the path again.
  void reopen();
  std::string format_line(const AccessRecord& record) const;

 private:
  std::string path_, format_;
  int fd_ = -1;
};

}  // namespace pyconc::server::detail
