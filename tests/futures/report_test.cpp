// Everything pyconc writes to stderr goes through one sink (pyconc/report.hpp).
#include <mutex>

#include "pyconc/futures.hpp"
#include "pyconc/report.hpp"
#include "support.hpp"

namespace {

using namespace pyconc::testing;

TEST(ReportChannel, EveryReportGoesThroughTheSink) {
  std::mutex lock;
  std::string seen;
  auto previous = pyconc::set_report_sink([&](std::string_view text) {
    std::scoped_lock hold(lock);
    seen.append(text);
  });
  ::testing::internal::CaptureStderr();
  {  // the default excepthook
    pyconc::threading::Thread t({.name = "reporter", .daemon = {}}, [] { throw pyconc::ValueError("a"); });
    t.start();
    t.join();
  }
  {  // an exception nobody retrieved
    pyconc::futures::Future<int> f;
    f.set_running_or_notify_cancel();
    f.set_exception(std::make_exception_ptr(pyconc::ValueError("b")));
  }
  {  // an initializer that fails, and a callback that throws
    pyconc::futures::ThreadPoolExecutor pool(pyconc::futures::ThreadPoolOptions{
        .max_workers = 1, .thread_name_prefix = {}, .initializer = [] { throw pyconc::ValueError("c"); }});
    auto f = pool.submit([] { return 1; });
    EXPECT_THROW(f.result(60s), pyconc::futures::BrokenThreadPool);
    f.add_done_callback([](auto&) { throw pyconc::ValueError("d"); });
  }
  const std::string on_stderr = ::testing::internal::GetCapturedStderr();
  pyconc::set_report_sink(previous);
  EXPECT_EQ(on_stderr, "");
  EXPECT_NE(seen.find("Exception in thread reporter:\nValueError: a"), std::string::npos) << seen;
  EXPECT_NE(seen.find("Future exception was never retrieved"), std::string::npos) << seen;
  EXPECT_NE(seen.find("ValueError: b"), std::string::npos) << seen;
  EXPECT_NE(seen.find("Exception in initializer:\nValueError: c"), std::string::npos) << seen;
  EXPECT_NE(seen.find("exception calling callback for"), std::string::npos) << seen;
  EXPECT_NE(seen.find("ValueError: d"), std::string::npos) << seen;
}

TEST(ReportChannel, DefaultSinkWritesToStderrAndAThrowingSinkIsIgnored) {
  ::testing::internal::CaptureStderr();
  pyconc::report("one report\n");
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "one report\n");
  auto previous = pyconc::set_report_sink([](std::string_view) { throw std::runtime_error("sink"); });
  EXPECT_NO_THROW(pyconc::report("dropped\n"));
  pyconc::set_report_sink(previous);
}

// wait() and as_completed() take braced lists; done-callbacks may be generic lambdas.
TEST(PublicSurface, BracedListsAndGenericCallbacks) {
  pyconc::futures::ThreadPoolExecutor pool(2);
  auto f1 = pool.submit([] { return 1; });
  auto f2 = pool.submit([] { return 2; });
  auto [done, not_done] = pyconc::futures::wait({f1, f2});
  EXPECT_EQ(done.size(), 2u);
  EXPECT_TRUE(not_done.empty());
  int sum = 0;
  for (auto& f : pyconc::futures::as_completed({f1, f2})) sum += f.result();
  EXPECT_EQ(sum, 3);
  auto g = pool.submit([] { return std::string("x"); });
  auto mixed = pyconc::futures::wait({pyconc::futures::FutureBase(f1), g});
  EXPECT_EQ(mixed.done.size(), 2u);
  int from_callback = 0;
  f2.add_done_callback([&](auto& f) { from_callback = f.result(); });
  EXPECT_EQ(from_callback, 2);
}

}  // namespace
