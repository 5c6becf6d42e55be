#include "pyconc/report.hpp"
#include "support.hpp"

namespace {

using namespace pyconc::testing;
using pyconc::threading::ExceptHookArgs;
using pyconc::threading::Thread;
namespace threading = pyconc::threading;

std::string run_and_capture_stderr(std::function<void()> body) {
  ::testing::internal::CaptureStderr();
  body();
  return ::testing::internal::GetCapturedStderr();
}

void run_failing_thread(const char* name) {
  Thread t({.name = name}, [] { throw pyconc::ValueError("bad value"); });
  t.start();
  t.join();
}

// covers EXH-01
TEST(Excepthook, DefaultReportNamesTheThread) {
  const std::string out = run_and_capture_stderr([] { run_failing_thread("worker-7"); });
  EXPECT_NE(out.find("Exception in thread worker-7:\n"), std::string::npos) << out;
  EXPECT_NE(out.find("ValueError: bad value"), std::string::npos) << out;
}

// covers EXH-02
TEST(Excepthook, CustomHookReceivesTypeValueAndThread) {
  ExceptHookArgs seen;
  std::string thread_name;
  auto previous = threading::set_excepthook([&](const ExceptHookArgs& a) {
    seen = a;
    thread_name = a.thread ? a.thread->name() : "";
  });
  run_failing_thread("hooked");
  threading::set_excepthook(previous);
  EXPECT_EQ(seen.exc_type, "ValueError");
  EXPECT_EQ(thread_name, "hooked");
  ASSERT_TRUE(seen.exc_value);
  try {
    std::rethrow_exception(seen.exc_value);
  } catch (const pyconc::ValueError& e) {
    EXPECT_STREQ(e.what(), "bad value");
  }
}

// covers EXH-03
TEST(Excepthook, SystemExitIsSilent) {
  const std::string out = run_and_capture_stderr([] {
    Thread t([] { throw pyconc::SystemExit(); });
    t.start();
    t.join();
  });
  EXPECT_EQ(out, "");
}

// covers EXH-04
TEST(Excepthook, FailingHookIsReported) {
  auto previous = threading::set_excepthook(
      [](const ExceptHookArgs&) { throw pyconc::RuntimeError("hook broke"); });
  const std::string out = run_and_capture_stderr([] { run_failing_thread("x"); });
  threading::set_excepthook(previous);
  EXPECT_NE(out.find("Exception in threading.excepthook:"), std::string::npos) << out;
  EXPECT_NE(out.find("RuntimeError: hook broke"), std::string::npos) << out;
}

// covers EXH-05
TEST(Excepthook, OriginalHookRestoresIdenticalOutput) {
  const std::string before = run_and_capture_stderr([] { run_failing_thread("same"); });
  auto previous = threading::set_excepthook([](const ExceptHookArgs&) {});
  threading::set_excepthook(threading::default_excepthook);
  const std::string after = run_and_capture_stderr([] { run_failing_thread("same"); });
  threading::set_excepthook(previous);
  EXPECT_EQ(before, after);
}

// covers EXH-06
TEST(Excepthook, NullThreadUsesIdent) {
  const std::string out = run_and_capture_stderr([] {
    try {
      throw pyconc::TypeError("t");
    } catch (...) {
      threading::default_excepthook({"TypeError", std::current_exception(), std::nullopt});
    }
  });
  EXPECT_NE(out.find("Exception in thread " + std::to_string(threading::get_ident()) + ":"),
            std::string::npos)
      << out;
}

// covers EXH-07 (C++ analogue: a report sink that drops everything prints nothing)
TEST(Excepthook, SilentReportSinkPrintsNothing) {
  auto previous = pyconc::set_report_sink([](std::string_view) {});
  const std::string out = run_and_capture_stderr([] { run_failing_thread("quiet"); });
  pyconc::set_report_sink(previous);
  EXPECT_EQ(out, "");
}

TEST(Excepthook, NonStandardExceptionTypesAreNamed) {
  auto previous = threading::set_excepthook([](const ExceptHookArgs&) {});
  std::string type;
  threading::set_excepthook([&](const ExceptHookArgs& a) { type = a.exc_type; });
  Thread t([] { throw 42; });
  t.start();
  t.join();
  threading::set_excepthook(previous);
  EXPECT_EQ(type, "int");
}

}  // namespace
