// pyconc-serve as a user runs it: real processes, real sockets on 127.0.0.1, real signals.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <thread>

#include "serve_process.hpp"

namespace {

using namespace server_test;
using namespace std::chrono_literals;

class EachWorkerKind : public testing::TestWithParam<std::string> {};

TEST_P(EachWorkerKind, ServesTheDemoRoutes) {
  ServeProcess serve({"-w", "1", "-k", GetParam(), "--threads", "2"});
  auto hello = get(serve.port(), "/");
  EXPECT_EQ(hello.status, 200);
  EXPECT_EQ(hello.body, "Hello, World!\n");
  EXPECT_NE(hello.head.find("Server: pyconc"), std::string::npos);
  EXPECT_EQ(get(serve.port(), "/db").body, "Hello, World!\n");
  EXPECT_EQ(get(serve.port(), "/cpu?n=100").body, "25\n");
  EXPECT_EQ(get(serve.port(), "/nowhere").status, 404);
  EXPECT_EQ(get(serve.port(), "/stream").body, "piece 0\npiece 1\npiece 2\n");
  HttpClient post(serve.port());
  post.send(request("POST", "/echo", "Connection: close\r\nTransfer-Encoding: chunked\r\n") + "3\r\nabc\r\n0\r\n\r\n");
  EXPECT_EQ(post.read_response().body, "abc");
  // A handler that throws gets a 500, and the worker lives on.
  const auto pid = get(serve.port(), "/pid").body;
  EXPECT_EQ(get(serve.port(), "/raise").status, 500);
  EXPECT_EQ(get(serve.port(), "/pid").body, pid);
  EXPECT_TRUE(serve.wait_for_log("Error handling request /raise"));
  serve.signal(SIGTERM);
  EXPECT_EQ(serve.wait_exit(), 0);
}

TEST_P(EachWorkerKind, HeadRequestsAndExpectContinue) {
  ServeProcess serve({"-w", "1", "-k", GetParam()});
  HttpClient head(serve.port());
  head.send(request("HEAD", "/", "Connection: close\r\n"));
  auto response = head.read_response(true);
  EXPECT_EQ(response.status, 200);
  EXPECT_NE(response.head.find("Content-Length: 14"), std::string::npos);
  EXPECT_TRUE(head.closed_by_peer(10s));  // and no body came before the close
  HttpClient put(serve.port());
  put.send("PUT /echo HTTP/1.1\r\nHost: h\r\nConnection: close\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n");
  EXPECT_EQ(put.read_response().status, 100);  // asked before the body is sent
  put.send("data");
  EXPECT_EQ(put.read_response().body, "data");
}

INSTANTIATE_TEST_SUITE_P(Kinds, EachWorkerKind, testing::Values("sync", "gthread", "asyncio"));

class KeepAliveKinds : public testing::TestWithParam<std::string> {};

TEST_P(KeepAliveKinds, KeepAliveAndPipelining) {
  ServeProcess serve({"-w", "1", "-k", GetParam(), "--threads", "2"});
  HttpClient client(serve.port());
  // Three requests in one write: answered in order on the one connection.
  client.send(request("GET", "/pid") + request("POST", "/echo", "", "second") + request("GET", "/"));
  auto first = client.read_response();
  EXPECT_EQ(first.status, 200);
  EXPECT_NE(first.head.find("Connection: keep-alive"), std::string::npos);
  EXPECT_EQ(client.read_response().body, "second");
  EXPECT_EQ(client.read_response().body, "Hello, World!\n");
  client.send(request("GET", "/pid"));
  EXPECT_EQ(client.read_response().body, first.body);
  client.send(request("GET", "/", "Connection: close\r\n"));
  EXPECT_NE(client.read_response().head.find("Connection: close"), std::string::npos);
  EXPECT_TRUE(client.closed_by_peer(10s));
}

TEST_P(KeepAliveKinds, IdleKeepAliveConnectionsAreClosed) {
  ServeProcess serve({"-w", "1", "-k", GetParam(), "--keep-alive", "0.3"});
  HttpClient client(serve.port());
  client.send(request("GET", "/"));
  EXPECT_EQ(client.read_response().status, 200);
  EXPECT_TRUE(client.closed_by_peer(20s));
}

INSTANTIATE_TEST_SUITE_P(Kinds, KeepAliveKinds, testing::Values("gthread", "asyncio"));

TEST(Arbiter, SyncWorkerClosesAfterEachRequest) {
  ServeProcess serve({"-w", "1"});
  HttpClient client(serve.port());
  client.send(request("GET", "/"));
  EXPECT_NE(client.read_response().head.find("Connection: close"), std::string::npos);
  EXPECT_TRUE(client.closed_by_peer(10s));
}

TEST(Arbiter, MalformedAndOversizedRequests) {
  ServeProcess serve({"-w", "1", "-k", "gthread", "--limit-request-body", "100"});
  auto status_of = [&](const std::string& bytes) {
    HttpClient client(serve.port());
    client.send(bytes);
    auto response = client.read_response();
    EXPECT_TRUE(response.status == 0 || response.head.find("Connection: close") != std::string::npos);
    return response.status;
  };
  EXPECT_EQ(status_of("GET /" + std::string(5000, 'a') + " HTTP/1.1\r\n\r\n"), 414);
  std::string many = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 101; ++i) many += "X-" + std::to_string(i) + ": v\r\n";
  EXPECT_EQ(status_of(many + "\r\n"), 431);
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nX-Big: " + std::string(9000, 'v') + "\r\n\r\n"), 431);
  EXPECT_EQ(status_of("POST / HTTP/1.1\r\nContent-Length: 101\r\n\r\n"), 413);
  EXPECT_EQ(status_of("THIS IS NOT HTTP\r\n\r\n"), 400);
  EXPECT_EQ(get(serve.port(), "/").status, 200);  // and the worker serves on
}

TEST(Arbiter, SlowlorisIsCutOffWhileOthersAreServed) {
  ServeProcess serve({"-w", "1", "-k", "asyncio", "--header-timeout", "1"});
  HttpClient slow(serve.port());
  slow.send("GET / HTTP/1.1\r\nHost: h\r\n");
  EXPECT_EQ(get(serve.port(), "/").status, 200);  // served meanwhile
  const auto began = std::chrono::steady_clock::now();
  bool cut = false;
  for (int i = 0; i < 100 && !cut; ++i) {  // a byte every 100 ms never finishes the head
    slow.send("X");
    cut = slow.closed_by_peer(100ms);
  }
  EXPECT_TRUE(cut);
  EXPECT_GE(std::chrono::steady_clock::now() - began, 500ms);
  EXPECT_EQ(get(serve.port(), "/").status, 200);
}

TEST(Arbiter, KilledWorkerIsReplacedAndNoIdleRequestIsLost) {
  ServeProcess serve({"-w", "2"});
  ASSERT_TRUE(serve.wait_for_log("Booting worker", 2));
  std::atomic<bool> done{false};
  std::atomic<int> served{0}, failed{0};
  std::thread client([&] {
    while (!done) (get(serve.port(), "/").status == 200 ? served : failed)++;
  });
  while (served < 20) std::this_thread::yield();
  const pid_t victim = serve.booted_workers().front();
  ::kill(victim, SIGKILL);
  EXPECT_TRUE(serve.wait_for_log("Booting worker", 3));
  EXPECT_TRUE(serve.wait_for_log("was sent SIGKILL"));
  const int before = served;
  while (served < before + 20) std::this_thread::yield();
  done = true;
  client.join();
  EXPECT_LE(failed.load(), 1);  // at most the one request the victim was serving
  std::set<std::string> pids;
  for (int i = 0; i < 40; ++i) pids.insert(get(serve.port(), "/pid").body);
  EXPECT_EQ(pids.count(std::to_string(victim) + "\n"), 0u);
}

// Workers that die as soon as they start are replaced more and more slowly (0.2 s, 0.4 s,
// 0.8 s, 1.6 s...), never in a tight respawn loop; a worker that lived long resets it.
TEST(Arbiter, WorkersDyingAtOnceAreRespawnedWithBackoff) {
  ServeProcess serve({"-w", "1"});
  const auto began = std::chrono::steady_clock::now();
  for (int crash = 1; crash <= 4; ++crash) {
    ASSERT_TRUE(serve.wait_for_log("Booting worker", crash));
    get(serve.port(), "/crash");
  }
  ASSERT_TRUE(serve.wait_for_log("Booting worker", 5));
  // Four quick deaths: at least 0.2 + 0.4 + 0.8 + 1.6 s of backoff in all.
  EXPECT_GE(std::chrono::steady_clock::now() - began, 3s);
  EXPECT_EQ(serve.count("was sent SIGABRT"), 4);
  EXPECT_EQ(get(serve.port(), "/").status, 200);
}

// A burst of keep-alive connections spreads over the workers (each stays where it was
// accepted): a worker two connections ahead of a live sibling leaves the queue to it.
TEST(Arbiter, ABurstOfConnectionsSpreadsOverTheWorkers) {
  ServeProcess serve({"-w", "2", "-k", "gthread", "--threads", "1", "--keep-alive", "60"});
  ASSERT_TRUE(serve.wait_for_log("Booting worker", 2));
  std::vector<std::unique_ptr<HttpClient>> clients;
  for (int i = 0; i < 20; ++i) {
    clients.push_back(std::make_unique<HttpClient>(serve.port()));
    ASSERT_TRUE(clients.back()->send(request("GET", "/pid")));
  }
  std::map<std::string, int> per_worker;
  for (auto& client : clients) {
    auto response = client->read_response();
    EXPECT_EQ(response.status, 200);
    ++per_worker[response.body];
  }
  ASSERT_EQ(per_worker.size(), 2u);
  for (const auto& [pid, count] : per_worker) EXPECT_GE(count, 7) << pid;  // 10 each, give or take
}

TEST(Arbiter, HungWorkerIsKilledAfterTheTimeout) {
  ServeProcess serve({"-w", "1", "-t", "1"});
  HttpClient hung(serve.port(), 60s);
  hung.send(request("GET", "/hang"));
  EXPECT_TRUE(serve.wait_for_log("WORKER TIMEOUT"));
  EXPECT_EQ(hung.read_response().status, 0);  // its connection died with it
  EXPECT_TRUE(serve.wait_for_log("Booting worker", 2));
  EXPECT_EQ(get(serve.port(), "/").status, 200);
}

TEST(Arbiter, TermDrainsTheRequestsInFlight) {
  ServeProcess serve({"-w", "1", "-k", "gthread", "--threads", "2", "--graceful-timeout", "30"});
  HttpClient client(serve.port());
  client.send(request("GET", "/sleep?ms=1000"));
  ASSERT_TRUE(serve.wait_for_log("sleep began"));
  serve.signal(SIGTERM);
  auto response = client.read_response();
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "slept\n");
  EXPECT_NE(response.head.find("Connection: close"), std::string::npos);  // stopping: no keep-alive
  EXPECT_EQ(serve.wait_exit(), 0);
  EXPECT_FALSE(HttpClient(serve.port()).connected());  // nothing listens any more
}

TEST(Arbiter, IntStopsFast) {
  ServeProcess serve({"-w", "1", "-k", "asyncio", "--graceful-timeout", "60"});
  HttpClient client(serve.port());
  client.send(request("GET", "/sleep?ms=30000"));
  ASSERT_TRUE(serve.wait_for_log("sleep began"));
  serve.signal(SIGINT);
  EXPECT_EQ(serve.wait_exit(20s), 0);
  EXPECT_EQ(client.read_response().status, 0);
}

TEST(Arbiter, HupSwapsWorkersWithoutRefusingAConnection) {
  ServeProcess serve({"-w", "2", "-k", "gthread", "--threads", "2"});
  ASSERT_TRUE(serve.wait_for_log("Booting worker", 2));
  const auto old_workers = serve.booted_workers();
  std::atomic<bool> done{false};
  std::atomic<int> served{0}, failed{0};
  std::thread client([&] {
    while (!done) (get(serve.port(), "/").status == 200 ? served : failed)++;
  });
  while (served < 20) std::this_thread::yield();
  serve.signal(SIGHUP);
  EXPECT_TRUE(serve.wait_for_log("Booting worker", 4));
  EXPECT_TRUE(serve.wait_for_log("Worker exiting", 2));
  const int before = served;
  while (served < before + 20) std::this_thread::yield();
  done = true;
  client.join();
  EXPECT_EQ(failed.load(), 0);
  for (int i = 0; i < 20; ++i) {
    const std::string pid = get(serve.port(), "/pid").body;
    for (pid_t old : old_workers) EXPECT_NE(pid, std::to_string(old) + "\n");
  }
}

TEST(Arbiter, TtinAndTtouChangeTheWorkerCount) {
  ServeProcess serve({"-w", "1"});
  ASSERT_TRUE(serve.wait_for_log("Booting worker", 1));
  serve.signal(SIGTTIN);
  EXPECT_TRUE(serve.wait_for_log("Booting worker", 2));
  serve.signal(SIGTTIN);
  EXPECT_TRUE(serve.wait_for_log("Booting worker", 3));
  serve.signal(SIGTTOU);
  EXPECT_TRUE(serve.wait_for_log("Worker exiting", 1));
  const auto booted = serve.booted_workers();
  // The oldest went, and no replacement came for it.
  EXPECT_TRUE(serve.wait_for_log("Worker exiting (pid: " + std::to_string(booted.front()) + ")"));
  EXPECT_EQ(serve.count("Booting worker"), 3);
  std::set<std::string> pids;
  for (int i = 0; i < 40; ++i) pids.insert(get(serve.port(), "/pid").body);
  EXPECT_LE(pids.size(), 2u);
  EXPECT_EQ(pids.count(std::to_string(booted.front()) + "\n"), 0u);
}

TEST(Arbiter, MaxRequestsRecyclesWorkers) {
  ServeProcess serve({"-w", "1", "--max-requests", "5"});
  std::set<std::string> pids;
  for (int i = 0; i < 16; ++i) {
    auto response = get(serve.port(), "/pid");
    EXPECT_EQ(response.status, 200);
    pids.insert(response.body);
  }
  EXPECT_GE(pids.size(), 3u);
  EXPECT_TRUE(serve.wait_for_log("Autorestarting worker", 3));
}

TEST(Arbiter, WorkerThatFailsToBootStopsTheArbiter) {
  ServeProcess serve({"-w", "2", "--access-logfile", "/nonexistent-directory/access.log"});
  EXPECT_EQ(serve.wait_exit(), 3);
  EXPECT_EQ(serve.count("failed to boot"), 1);
  EXPECT_LE(serve.count("Booting worker"), 0);
}

TEST(Arbiter, BadConfigurationIsRefused) {
  ServeProcess serve({"-w", "1"});
  const std::string port = std::to_string(serve.port());
  ServeProcess taken({"-w", "1", "-b", "127.0.0.1:" + port}, false);
  EXPECT_EQ(taken.wait_exit(), 1);
  EXPECT_NE(taken.log().find("Address already in use"), std::string::npos) << taken.log();
  ServeProcess no_workers({"-w", "0"}, false);
  EXPECT_EQ(no_workers.wait_exit(), 1);
  EXPECT_NE(no_workers.log().find("workers must be at least 1"), std::string::npos);
  ServeProcess negative_buffer({"--body-buffer-size", "-1"}, false);
  EXPECT_EQ(negative_buffer.wait_exit(), 1);
  EXPECT_NE(negative_buffer.log().find("body_buffer_size must not be negative"), std::string::npos);
  ServeProcess unknown_kind({"-k", "eventlet"}, false);
  EXPECT_NE(unknown_kind.wait_exit(), 0);
  EXPECT_NE(unknown_kind.log().find("eventlet"), std::string::npos);
  EXPECT_EQ(get(serve.port(), "/").status, 200);  // the first server was not disturbed
}

TEST(Arbiter, AccessLogAndUsr1Reopen) {
  const std::string path = "/tmp/pyconc-serve-access-" + std::to_string(::getpid()) + ".log";
  ::unlink(path.c_str());
  ::unlink((path + ".1").c_str());
  ServeProcess serve({"-w", "1", "--access-logfile", path});
  HttpClient client(serve.port());
  client.send(request("GET", "/?a=1", "User-Agent: tester\r\nReferer: http://r/\r\nConnection: close\r\n"));
  EXPECT_EQ(client.read_response().status, 200);
  ::rename(path.c_str(), (path + ".1").c_str());  // as logrotate does
  serve.signal(SIGUSR1);
  ASSERT_TRUE(serve.wait_for_log("Handling signal: usr1"));
  bool reopened = false;
  for (int i = 0; i < 500 && !reopened; ++i) {
    get(serve.port(), "/again");
    reopened = ::access(path.c_str(), F_OK) == 0;
  }
  EXPECT_TRUE(reopened);
  std::ifstream first(path + ".1");
  std::string line;
  std::getline(first, line);
  EXPECT_NE(line.find("127.0.0.1 - - ["), std::string::npos) << line;
  EXPECT_NE(line.find("] \"GET /?a=1 HTTP/1.1\" 200 14 \"http://r/\" \"tester\""), std::string::npos) << line;
  ::unlink(path.c_str());
  ::unlink((path + ".1").c_str());
}

TEST(Arbiter, ServesAUnixSocket) {
  const std::string path = "/tmp/pyconc-serve-" + std::to_string(::getpid()) + ".sock";
  {
    ServeProcess serve({"-w", "1", "-k", "asyncio", "-b", "unix:" + path});
    HttpClient client(path);
    client.send(request("GET", "/", "Connection: close\r\n"));
    EXPECT_EQ(client.read_response().body, "Hello, World!\n");
    serve.signal(SIGTERM);
    EXPECT_EQ(serve.wait_exit(), 0);
  }
  EXPECT_NE(::access(path.c_str(), F_OK), 0);  // the path went with the server
}

TEST(Arbiter, Usr2StartsANewMasterOnTheSameSockets) {
  ServeProcess serve({"-w", "1"});
  const std::string old_worker = get(serve.port(), "/pid").body;
  serve.signal(SIGUSR2);
  ASSERT_TRUE(serve.wait_for_log("Forked the new master"));
  ASSERT_TRUE(serve.wait_for_log("Booting worker", 2));  // the new master's worker logs here too
  serve.signal(SIGTERM);  // the old master retires; the new one serves on
  ASSERT_TRUE(serve.wait_exit().has_value());
  std::string pid;
  for (int i = 0; i < 100 && (pid.empty() || pid == old_worker); ++i) pid = get(serve.port(), "/pid").body;
  EXPECT_FALSE(pid.empty());
  EXPECT_NE(pid, old_worker);
  // The new master is in the same process group: the helper's destructor ends it.
}

// The coroutine handler's stream waits between its pieces without holding up the loop: a
// request that comes while it waits is answered before the stream's end is even sent. The
// stream takes 3 × 10 s, so a loaded machine has ample time to serve the other request; the
// test does not wait for the stream to end.
TEST(Arbiter, AnAwaitedResponseStreamLetsTheLoopServeOthers) {
  ServeProcess serve({"-w", "1", "-k", "asyncio"});
  HttpClient streaming(serve.port());
  streaming.send(request("GET", "/stream?ms=10000", "Connection: close\r\n"));
  EXPECT_EQ(get(serve.port(), "/").status, 200);
  char seen[4096];
  const ssize_t got = ::recv(streaming.fd(), seen, sizeof seen, MSG_PEEK | MSG_DONTWAIT);
  const std::string so_far(seen, got > 0 ? static_cast<std::size_t>(got) : 0);
  EXPECT_EQ(so_far.find("piece 2"), std::string::npos) << so_far;
}

TEST(Arbiter, ThousandKeepAliveConnectionsDoNotStopNewOnes) {
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  if (limit.rlim_cur < 2200) {
    limit.rlim_cur = std::min<rlim_t>(limit.rlim_max, 4096);
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
  if (limit.rlim_cur < 2200) GTEST_SKIP() << "needs 2200 descriptors, the hard limit is " << limit.rlim_max;
  ServeProcess serve({"-w", "2", "-k", "asyncio", "--keep-alive", "120"});
  std::vector<std::unique_ptr<HttpClient>> held;
  for (int i = 0; i < 1000; ++i) {
    auto client = std::make_unique<HttpClient>(serve.port());
    ASSERT_TRUE(client->send(request("GET", "/")));
    held.push_back(std::move(client));
  }
  int answered = 0;
  for (auto& client : held) answered += client->read_response().status == 200;
  EXPECT_EQ(answered, 1000);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(get(serve.port(), "/").status, 200);  // new ones still served
  held.front()->send(request("GET", "/"));
  EXPECT_EQ(held.front()->read_response().status, 200);  // and the held ones still open
}

}  // namespace
