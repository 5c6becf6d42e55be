// log_info and friends (server_log.hpp).
#include "server_log.hpp"

#include <unistd.h>

#include <ctime>
#include <string>

#include "pyconc/report.hpp"

namespace pyconc::server::detail {

namespace {
void log_line(std::string_view level, std::string_view message) {
  const std::time_t now = std::time(nullptr);
  std::tm parts{};
  ::localtime_r(&now, &parts);
  char stamp[64];
  std::strftime(stamp, sizeof stamp, "[%Y-%m-%d %H:%M:%S %z]", &parts);
  std::string line = std::string(stamp) + " [" + std::to_string(::getpid()) + "] [" + std::string(level) + "] ";
  line += message;
  line += '\n';
  report(line);
}
}  // namespace

void log_info(std::string_view message) { log_line("INFO", message); }
void log_warning(std::string_view message) { log_line("WARNING", message); }
void log_error(std::string_view message) { log_line("ERROR", message); }

}  // namespace pyconc::server::detail
