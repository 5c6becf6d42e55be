// pyconc::server — a Gunicorn-style prefork HTTP/1.1 server for C++ applications: an arbiter
// process and its workers (sync, gthread, asyncio), HTTP parsed by Boost.Beast.
//   #include <pyconc/server.hpp>
#pragma once

#include "pyconc/server/arbiter.hpp"
#include "pyconc/server/config.hpp"
#include "pyconc/server/http.hpp"
