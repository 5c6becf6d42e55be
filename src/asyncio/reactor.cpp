// The reactor on libuv: one uv_async_t for wake-ups from other threads, one uv_timer_t to
// bound a poll. Events only end the poll; the scheduler does the work afterwards.
#include "reactor.hpp"

#include <cmath>
#include <string>

#include "pyconc/errors.hpp"

namespace pyconc::asyncio::detail {

namespace {

void check(int rc, const char* what) {
  if (rc < 0) throw OSError(std::string(what) + ": " + uv_strerror(rc));
}

void on_event(uv_async_t*) {}
void on_timeout(uv_timer_t*) {}

}  // namespace

Reactor::Reactor() {
  check(uv_loop_init(&loop_), "uv_loop_init");
  check(uv_async_init(&loop_, &wake_, &on_event), "uv_async_init");
  check(uv_timer_init(&loop_, &timeout_), "uv_timer_init");
}

Reactor::~Reactor() {
  uv_close(reinterpret_cast<uv_handle_t*>(&wake_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&timeout_), nullptr);
  uv_run(&loop_, UV_RUN_NOWAIT);  // lets libuv finish closing them
  uv_loop_close(&loop_);
}

void Reactor::poll(std::optional<double> timeout) {
  if (timeout && *timeout <= 0) {
    uv_run(&loop_, UV_RUN_NOWAIT);
    return;
  }
  if (timeout) {
    // libuv counts whole milliseconds; rounding up never wakes before the timer is due.
    const double ms = std::ceil(*timeout * 1000.0);
    uv_timer_start(&timeout_, &on_timeout, ms > 9.0e15 ? 9000000000000000ull : static_cast<std::uint64_t>(ms), 0);
  }
  uv_run(&loop_, UV_RUN_ONCE);  // the wake-up handle keeps the loop alive: this blocks
  uv_timer_stop(&timeout_);
}

void Reactor::wake() { uv_async_send(&wake_); }

}  // namespace pyconc::asyncio::detail
