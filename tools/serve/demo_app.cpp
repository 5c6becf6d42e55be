// demo_application (demo_app.hpp).
#include "demo_app.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <thread>

#include "pyconc/asyncio.hpp"

namespace pyconc_serve {

namespace {

using pyconc::server::Request;
using pyconc::server::Response;
using namespace std::chrono_literals;

long query_number(const Request& request, const std::string& name, long fallback) {
  const std::string key = name + "=";
  std::size_t at = request.query.find(key);
  if (at == std::string::npos || (at > 0 && request.query[at - 1] != '&')) return fallback;
  return std::strtol(request.query.c_str() + at + key.size(), nullptr, 10);
}

long count_primes(long below) {
  long count = 0;
  for (long n = 2; n < below; ++n) {
    bool prime = true;
    for (long d = 2; d * d <= n; ++d) {
      if (n % d == 0) {
        prime = false;
        break;
      }
    }
    count += prime;
  }
  return count;
}

Response text(int status, std::string body) {
  Response response;
  response.status = status;
  response.headers.add("Content-Type", "text/plain");
  response.body = std::move(body);
  return response;
}

// What both forms answer once any waiting is done.
Response answer(const Request& request, bool test_routes) {
  const std::string& path = request.path;
  if (path == "/" || path == "/db") return text(200, "Hello, World!\n");
  if (path == "/cpu") return text(200, std::to_string(count_primes(query_number(request, "n", 20000))) + "\n");
  if (!test_routes) return text(404, "Not Found\n");
  if (path == "/pid") return text(200, std::to_string(::getpid()) + "\n");
  if (path == "/echo") return text(200, request.body);
  if (path == "/sleep") return text(200, "slept\n");
  if (path == "/raise") throw std::runtime_error("the demo's /raise route");
  if (path == "/crash") std::abort();
  if (path == "/hang") {
    for (;;) std::this_thread::sleep_for(1h);
  }
  if (path == "/stream") {
    Response response = text(200, "");
    auto pieces = std::make_shared<int>(0);
    response.stream = [pieces]() -> std::optional<std::string> {
      if (*pieces == 3) return std::nullopt;
      return "piece " + std::to_string((*pieces)++) + "\n";
    };
    return response;
  }
  return text(404, "Not Found\n");
}

// /stream for the coroutine handler: the same 3 pieces from a coroutine that waits `ms`
// before each (the loop serves others meanwhile).
Response awaited_stream(long ms) {
  Response response = text(200, "");
  auto pieces = std::make_shared<int>(0);
  response.async_stream = [pieces, ms]() -> pyconc::asyncio::Coroutine<std::optional<std::string>> {
    if (*pieces == 3) co_return std::nullopt;
    co_await pyconc::asyncio::sleep(std::chrono::milliseconds(ms));
    co_return "piece " + std::to_string((*pieces)++) + "\n";
  };
  return response;
}

// /upload's answer: the body's size, a checksum of its bytes, and how it came (whole, or
// streamed in how many pieces).
struct UploadTally {
  std::size_t bytes = 0, pieces = 0;
  std::uint32_t sum = 0;
  void add(std::string_view piece) {
    bytes += piece.size();
    for (unsigned char c : piece) sum = sum * 31 + c;
  }
  Response response(bool streamed) const {
    return text(200, "bytes=" + std::to_string(bytes) + " sum=" + std::to_string(sum) +
                         " streamed=" + std::to_string(streamed) + " pieces=" + std::to_string(pieces) + "\n");
  }
};

std::chrono::milliseconds wait_of(const Request& request, bool test_routes) {
  if (request.path == "/db") return 10ms;
  if (test_routes && request.path == "/sleep") {
    // The tests wait for this line to know a request is in flight.
    std::fprintf(stderr, "[test] sleep began (pid %d)\n", static_cast<int>(::getpid()));
    return std::chrono::milliseconds(query_number(request, "ms", 100));
  }
  return 0ms;
}

}  // namespace

pyconc::server::Application demo_application(bool test_routes) {
  pyconc::server::Application application;
  application.handler = [test_routes](const Request& request) {
    if (test_routes && request.path == "/upload") {
      UploadTally tally;
      tally.add(request.body);
      if (request.body_stream) {
        while (auto piece = request.body_stream->read()) {
          tally.add(*piece);
          ++tally.pieces;
        }
      }
      return tally.response(request.body_stream != nullptr);
    }
    if (auto wait = wait_of(request, test_routes); wait > 0ms) std::this_thread::sleep_for(wait);
    return answer(request, test_routes);
  };
  application.async_handler = [test_routes](Request request) -> pyconc::asyncio::Coroutine<Response> {
    if (test_routes && request.path == "/upload") {
      UploadTally tally;
      tally.add(request.body);
      if (request.body_stream) {
        for (;;) {
          std::optional<std::string> piece = co_await request.body_stream->read_async();
          if (!piece) break;
          tally.add(*piece);
          ++tally.pieces;
        }
      }
      co_return tally.response(request.body_stream != nullptr);
    }
    if (auto wait = wait_of(request, test_routes); wait > 0ms) co_await pyconc::asyncio::sleep(wait);
    if (test_routes && request.path == "/stream") co_return awaited_stream(query_number(request, "ms", 0));
    co_return answer(request, test_routes);
  };
  return application;
}

}  // namespace pyconc_serve
