// multiprocessing.connection.Listener and Client: Unix and TCP addresses, the authkey
// handshake (right key, wrong key, no key), and a client in another process.
#include <unistd.h>

#include <thread>

#include "mp_support.hpp"

namespace mp = pyconc::multiprocessing;
namespace conn = pyconc::multiprocessing::connection;
using namespace std::chrono_literals;

namespace {

const conn::Address kLoopback{std::pair<std::string, int>{"127.0.0.1", 0}};

// A Unix listener gets a fresh path; a TCP one on port 0 reports the port it was given.
TEST(Listener, UnixAndTcpAddresses) {
  conn::Listener unix_listener;
  const auto path = std::get<std::string>(unix_listener.address());
  EXPECT_EQ(::access(path.c_str(), F_OK), 0);
  std::thread client([&] { conn::Client(unix_listener.address()).send(std::string("over unix")); });
  EXPECT_EQ(unix_listener.accept().recv<std::string>(), "over unix");
  client.join();
  unix_listener.close();
  EXPECT_NE(::access(path.c_str(), F_OK), 0);  // close() removes the path
  unix_listener.close();                       // idempotent

  conn::Listener tcp(kLoopback);
  const int port = std::get<std::pair<std::string, int>>(tcp.address()).second;
  EXPECT_GT(port, 0);
  std::thread tcp_client([&] {
    auto c = conn::Client(tcp.address());
    c.send(std::vector<int>{1, 2, 3});
    EXPECT_EQ(c.recv<int>(), 6);
  });
  auto peer = tcp.accept();
  const auto v = peer.recv<std::vector<int>>();
  peer.send(v[0] + v[1] + v[2]);
  tcp_client.join();
}

// Nobody listening: ConnectionRefusedError (TCP) or FileNotFoundError (a Unix path).
TEST(Listener, NobodyListening) {
  int port;
  {
    conn::Listener gone(kLoopback);
    port = std::get<std::pair<std::string, int>>(gone.address()).second;
  }
  EXPECT_THROW(conn::Client(conn::Address{std::pair<std::string, int>{"127.0.0.1", port}}),
               pyconc::ConnectionRefusedError);
  EXPECT_THROW(conn::Client(conn::Address{std::string("/tmp/pyconc-no-listener-here")}), pyconc::FileNotFoundError);
}

// The handshake a remote Manager (MGR-09) needs: the same authkey on both sides connects; a
// wrong one is an AuthenticationError on both sides ("digest received was wrong" for the listener, "digest
// sent was rejected" for the client), and the listener goes on accepting.
TEST(Listener, AuthkeyHandshake) {
  for (const conn::Address& address : {kLoopback, conn::Address{}}) {
    conn::Listener listener(std::holds_alternative<std::string>(address) ? std::nullopt
                                                                         : std::optional<conn::Address>(address),
                            4, "right key");
    std::string client_error;
    std::thread wrong([&] {
      try {
        conn::Client(listener.address(), std::string("wrong key"));
      } catch (const mp::AuthenticationError& e) {
        client_error = e.what();
      }
    });
    try {
      listener.accept();
      ADD_FAILURE() << "accepted a wrong key";
    } catch (const mp::AuthenticationError& e) {
      EXPECT_STREQ(e.what(), "digest received was wrong");
    }
    wrong.join();
    EXPECT_NE(client_error.find("digest"), std::string::npos) << client_error;

    std::thread right([&] { conn::Client(listener.address(), std::string("right key")).send(7); });
    EXPECT_EQ(listener.accept().recv<int>(), 7);
    right.join();
  }
}

// A client that does not authenticate (no authkey) is refused: what it sends is not an answer.
TEST(Listener, ClientWithoutAuthkeyIsRefused) {
  conn::Listener listener(kLoopback, 1, "key");
  std::thread plain([&] {
    auto c = conn::Client(listener.address());
    try {
      c.send(std::string("hello, no key"));
      c.recv_bytes();  // the challenge, then the refusal
      c.recv_bytes();
    } catch (const pyconc::Error&) {
    }
  });
  EXPECT_THROW(listener.accept(), mp::AuthenticationError);
  plain.join();
}

void connect_and_send(conn::Address address, std::string authkey, int value) {
  conn::Client(address, authkey).send(value * 2);
}

class ListenerAcross : public pyconc::testing::EveryStartMethod {};
PYCONC_EVERY_START_METHOD(ListenerAcross);

// A child process connects with the key it was given.
TEST_P(ListenerAcross, ChildConnectsWithTheKey) {
  conn::Listener listener(kLoopback, 1, "family key");
  auto child = context().Process(connect_and_send, listener.address(), std::string("family key"), 21);
  child.start();
  EXPECT_EQ(listener.accept().recv<int>(), 42);
  child.join();
  EXPECT_EQ(child.exitcode(), 0);
}

}  // namespace
