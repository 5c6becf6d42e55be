// AccessLog (access_log.hpp).
#include "access_log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>

#include "pyconc/errors.hpp"

namespace pyconc::server::detail {

namespace {

std::string common_log_time() {
  const std::time_t now = std::time(nullptr);
  std::tm parts{};
  ::localtime_r(&now, &parts);
  char text[64];
  std::strftime(text, sizeof text, "[%d/%b/%Y:%H:%M:%S %z]", &parts);
  return text;
}

std::string or_dash(const std::string& value) { return value.empty() ? "-" : value; }

}  // namespace

AccessLog::AccessLog(std::string path, std::string format) : path_(std::move(path)), format_(std::move(format)) {
  reopen();
}

AccessLog::~AccessLog() {
  if (fd_ > STDERR_FILENO) ::close(fd_);
}

void AccessLog::reopen() {
  if (path_.empty()) return;
  if (path_ == "-") {
    fd_ = STDOUT_FILENO;
    return;
  }
  const int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) raise_os_error(errno, "cannot open the access log " + path_);
  if (fd_ > STDERR_FILENO) ::close(fd_);
  fd_ = fd;
}

std::string AccessLog::format_line(const AccessRecord& record) const {
  std::string line;
  for (std::size_t i = 0; i < format_.size(); ++i) {
    // An atom is "%(x)s"; anything else is copied as it stands.
    if (format_.compare(i, 2, "%(") == 0) {
      const std::size_t close = format_.find(")s", i + 2);
      if (close != std::string::npos) {
        const std::string atom = format_.substr(i + 2, close - i - 2);
        const double s = record.seconds;
        if (atom == "h") line += record.peer_host;
        else if (atom == "l" || atom == "u") line += '-';
        else if (atom == "t") line += common_log_time();
        else if (atom == "r") line += record.method + " " + record.target + " " + record.http_version;
        else if (atom == "m") line += record.method;
        else if (atom == "U") line += record.path;
        else if (atom == "q") line += record.query;
        else if (atom == "H") line += record.http_version;
        else if (atom == "s") line += std::to_string(record.status);
        else if (atom == "b") line += record.body_bytes ? std::to_string(record.body_bytes) : "-";
        else if (atom == "B") line += std::to_string(record.body_bytes);
        else if (atom == "f") line += or_dash(record.referer);
        else if (atom == "a") line += or_dash(record.user_agent);
        else if (atom == "T") line += std::to_string(static_cast<long long>(s));
        else if (atom == "M") line += std::to_string(static_cast<long long>(s * 1e3));
        else if (atom == "D") line += std::to_string(static_cast<long long>(s * 1e6));
        else if (atom == "L") {
          char text[32];
          std::snprintf(text, sizeof text, "%.6f", s);
          line += text;
        } else if (atom == "p") {  // piece by piece: GCC 12's -Wrestrict misfires on "<" + temporary
          line += '<';
          line += std::to_string(::getpid());
          line += '>';
        } else {
          line += "-";
        }
        i = close + 1;
        continue;
      }
    }
    line += format_[i];
  }
  line += '\n';
  return line;
}

void AccessLog::write(const AccessRecord& record) {
  if (fd_ < 0) return;
  const std::string line = format_line(record);
  // A log that cannot be written must not take the worker down with it.
  [[maybe_unused]] const ssize_t written = ::write(fd_, line.data(), line.size());
}

}  // namespace pyconc::server::detail
