// One worker's accept balancer on a real loop and real listening sockets: it pauses when it
// is ahead of a sibling, looks again by itself (sooner at first, then less often), and a
// burst that left every worker paused on stale counts recovers without a new connection.
#include "server/accept_balancer.hpp"

#include <gtest/gtest.h>

#include "pyconc/asyncio.hpp"

namespace {

namespace asyncio = pyconc::asyncio;
using pyconc::server::detail::AcceptBalancer;
using pyconc::server::detail::WorkerBoard;
using namespace std::chrono_literals;

constexpr std::int64_t a_minute_ns = 60'000'000'000;

asyncio::Coroutine<asyncio::Server> listening_server() {
  auto handler = [](asyncio::StreamReader, asyncio::StreamWriter) -> asyncio::Coroutine<void> { co_return; };
  co_return co_await asyncio::start_server(handler, "127.0.0.1", 0);
}

TEST(AcceptBalancer, PausesWhenAheadAndLooksAgainLessAndLessOften) {
  asyncio::run([]() -> asyncio::Coroutine<void> {
    WorkerBoard board(4);
    const auto me = board.claim(), sibling = board.claim();
    std::vector<asyncio::Server> servers;
    servers.push_back(co_await listening_server());
    bool stopping = false;
    AcceptBalancer balancer(board, me, servers, stopping, a_minute_ns);
    balancer.connections_changed(1);
    EXPECT_TRUE(balancer.accepting());
    balancer.connections_changed(2);  // two ahead of the sibling's none
    EXPECT_FALSE(balancer.accepting());
    EXPECT_FALSE(servers[0].is_serving());
    EXPECT_EQ(balancer.recheck_delay(), AcceptBalancer::first_recheck);
    // Still ahead: it keeps looking, each time waiting twice as long, up to the tick.
    auto previous = balancer.recheck_delay();
    for (int look = 0; look < 10'000 && balancer.recheck_delay() < AcceptBalancer::last_recheck; ++look) {
      co_await asyncio::sleep(1ms);
      EXPECT_GE(balancer.recheck_delay(), previous);
      previous = balancer.recheck_delay();
    }
    EXPECT_EQ(balancer.recheck_delay(), AcceptBalancer::last_recheck);
    EXPECT_FALSE(balancer.accepting());
    // The sibling catches up without telling this worker: a look of its own finds it.
    board.set_connections(sibling, 1);
    for (int look = 0; look < 10'000 && !balancer.accepting(); ++look) co_await asyncio::sleep(1ms);
    EXPECT_TRUE(balancer.accepting());
    EXPECT_TRUE(servers[0].is_serving());
    EXPECT_EQ(balancer.recheck_delay(), AcceptBalancer::first_recheck);
    // Once stopping, nothing is decided any more; stop() tells the siblings not to wait for
    // this worker, however few connections it has.
    stopping = true;
    balancer.connections_changed(10);
    EXPECT_TRUE(balancer.accepting());
    balancer.connections_changed(2);
    board.set_connections(sibling, 8);
    EXPECT_FALSE(board.fair_to_accept(sibling, 0));
    balancer.stop();
    EXPECT_TRUE(board.fair_to_accept(sibling, 0));
    servers[0].close();
  });
}

TEST(AcceptBalancer, WorkersAllPausedOnStaleCountsRecoverByThemselves) {
  asyncio::run([]() -> asyncio::Coroutine<void> {
    WorkerBoard board(4);
    const auto a = board.claim(), b = board.claim();
    std::vector<asyncio::Server> servers_a, servers_b;
    servers_a.push_back(co_await listening_server());
    servers_b.push_back(co_await listening_server());
    bool stopping = false;
    AcceptBalancer first(board, a, servers_a, stopping, a_minute_ns), second(board, b, servers_b, stopping, a_minute_ns);
    // As in a burst: a pauses at 2 while b has published none; b then takes 4 and pauses too.
    first.connections_changed(2);
    second.connections_changed(4);
    EXPECT_FALSE(first.accepting());
    EXPECT_FALSE(second.accepting());
    // No connection opens or closes, and no tick runs here: the balancers look by themselves.
    for (int look = 0; look < 10'000 && !first.accepting(); ++look) co_await asyncio::sleep(1ms);
    EXPECT_TRUE(first.accepting());
    EXPECT_TRUE(servers_a[0].is_serving());
    EXPECT_FALSE(second.accepting());  // 4 is still two ahead of 2
    servers_a[0].close();
    servers_b[0].close();
  });
}

}  // namespace
