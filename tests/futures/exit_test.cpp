// Executors at process exit, checked in child processes.
#include "scenario.hpp"

namespace {

using pyconc::testing::run_scenario;

// covers SHD-07
TEST(ExecutorAtExit, SubmittedWorkCompletes) {
  const auto r = run_scenario("pool_work_finishes_at_exit");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.output, "main returns\ntask done\nqueued task done\n");
}

// covers SHD-02
TEST(ExecutorAtExit, SubmitDuringInterpreterShutdownIsRuntimeError) {
  const auto r = run_scenario("submit_after_interpreter_shutdown");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.output, "cannot schedule new futures after interpreter shutdown\n");
}

}  // namespace
