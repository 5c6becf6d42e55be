// The workers' shared board: slots, heartbeats, and who should accept next.
#include "server/worker_board.hpp"

#include <gtest/gtest.h>

#include "pyconc/errors.hpp"

namespace {

using pyconc::server::detail::heartbeat_now;
using pyconc::server::detail::WorkerBoard;

TEST(WorkerBoard, ClaimsAndReleasesSlots) {
  WorkerBoard board(2);
  const auto a = board.claim(), b = board.claim();
  EXPECT_NE(a, b);
  EXPECT_GT(board.last_beat(a), 0);
  EXPECT_THROW(board.claim(), pyconc::RuntimeError);
  board.release(a);
  EXPECT_EQ(board.last_beat(a), 0);
  EXPECT_EQ(board.claim(), a);
}

TEST(WorkerBoard, TheLeastLoadedLiveWorkerAccepts) {
  WorkerBoard board(3);
  const auto a = board.claim(), b = board.claim(), c = board.claim();
  const auto fresh_after = heartbeat_now() - 1'000'000'000;
  board.set_connections(a, 5);
  board.set_connections(b, 4);
  board.set_connections(c, 3);
  EXPECT_FALSE(board.fair_to_accept(a, fresh_after));  // two ahead of c
  EXPECT_TRUE(board.fair_to_accept(b, fresh_after));   // one ahead is fair
  EXPECT_TRUE(board.fair_to_accept(c, fresh_after));
  board.set_connections(c, WorkerBoard::not_accepting);  // c stopped accepting: not waited for
  EXPECT_TRUE(board.fair_to_accept(a, fresh_after));
  board.set_connections(c, 0);
  board.release(c);  // a worker gone is not waited for either
  EXPECT_TRUE(board.fair_to_accept(a, fresh_after));
}

TEST(WorkerBoard, ASilentWorkerIsNotWaitedFor) {
  WorkerBoard board(2);
  const auto a = board.claim(), b = board.claim();
  board.set_connections(a, 10);
  board.set_connections(b, 0);
  EXPECT_FALSE(board.fair_to_accept(a, heartbeat_now() - 1'000'000'000));
  EXPECT_TRUE(board.fair_to_accept(a, heartbeat_now() + 1));  // b's beat is older than that
  board.beat(a);
  EXPECT_TRUE(board.fair_to_accept(b, heartbeat_now() - 1'000'000'000));
}

}  // namespace
