// The arbiter's and workers' own messages in Gunicorn's error-log shape,
// "[2026-12-01 17:50:00 +0000] [4242] [INFO] Booting worker with pid: 4242", through the
// library's one report channel (stderr).
#pragma once

#include <string_view>

namespace pyconc::server::detail {

void log_info(std::string_view message);
void log_warning(std::string_view message);
void log_error(std::string_view message);

}  // namespace pyconc::server::detail
