// Context variables: Python's contextvars API, and each task in its own copy (TASK-12).
#include <gmock/gmock.h>

#include <string>
#include <vector>

#include "pyconc/asyncio.hpp"
#include "pyconc/contextvars.hpp"
#include "pyconc/threading.hpp"

namespace asyncio = pyconc::asyncio;
namespace cv = pyconc::contextvars;
using namespace std::chrono_literals;

namespace {

TEST(ContextVar, GetSetResetAndDefaults) {
  cv::ContextVar<int> plain("plain");
  cv::ContextVar<std::string> with_default("with_default", "none");
  EXPECT_EQ(plain.name(), "plain");
  EXPECT_THROW(plain.get(), pyconc::LookupError);
  EXPECT_EQ(plain.get(7), 7);
  EXPECT_EQ(with_default.get(), "none");
  EXPECT_EQ(with_default.get("given"), "given");
  auto first = plain.set(1);
  EXPECT_FALSE(first.old_value());
  auto second = plain.set(2);
  EXPECT_EQ(second.old_value(), 1);
  EXPECT_EQ(plain.get(), 2);
  plain.reset(second);
  EXPECT_EQ(plain.get(), 1);
  EXPECT_THROW(plain.reset(second), pyconc::RuntimeError);  // used once already
  plain.reset(first);
  EXPECT_THROW(plain.get(), pyconc::LookupError);  // no value again
  cv::ContextVar<int> other("other");
  auto foreign = other.set(3);
  EXPECT_THROW(plain.reset(foreign), pyconc::ValueError);
  other.reset(foreign);
}

// Context::run: changes stay in the context run; a token from another context is refused;
// a context cannot be entered twice.
TEST(ContextVar, CopyContextAndRun) {
  cv::ContextVar<int> var("var");
  auto outer = var.set(1);
  cv::Context copy = cv::copy_context();
  std::optional<cv::Token<int>> inner;
  copy.run([&] {
    EXPECT_EQ(var.get(), 1);
    inner = var.set(2);
    EXPECT_THROW(copy.run([] { return 0; }), pyconc::RuntimeError);
  });
  EXPECT_EQ(var.get(), 1);  // the change stayed in `copy`
  EXPECT_EQ(copy.run([&] { return var.get(); }), 2);
  EXPECT_THROW(var.reset(*inner), pyconc::ValueError);  // made in another context
  EXPECT_EQ(cv::Context().run([&] { return var.get(0); }), 0);  // an empty context
  var.reset(outer);
}

TEST(ContextVar, EachThreadHasItsOwnContext) {
  cv::ContextVar<int> var("var", 0);
  auto token = var.set(5);
  int seen = -1;
  pyconc::threading::Thread thread([&] { seen = var.get(); });
  thread.start();
  thread.join();
  EXPECT_EQ(seen, 0);
  var.reset(token);
}

// covers TASK-12: a task runs in a copy of its creator's context taken at creation: later
// changes by the creator are not seen, and the task's own changes do not leak out.
TEST(ContextVar, TasksRunInACopyOfTheirCreatorsContext) {
  asyncio::run([]() -> asyncio::Coroutine<void> {
    static cv::ContextVar<std::string> request("request", "none");
    request.set("main");
    auto child = [](std::string mine) -> asyncio::Coroutine<std::vector<std::string>> {
      std::vector<std::string> seen;
      seen.push_back(request.get());
      request.set(mine);
      co_await asyncio::sleep(1ms);  // others run in between, with their own values
      seen.push_back(request.get());
      co_return seen;
    };
    auto a = asyncio::create_task(child("a"));
    request.set("changed after a was created");
    auto b = asyncio::create_task(child("b"));
    auto seen_a = co_await a;
    auto seen_b = co_await b;
    EXPECT_THAT(seen_a, testing::ElementsAre("main", "a"));
    EXPECT_THAT(seen_b, testing::ElementsAre("changed after a was created", "b"));
    EXPECT_EQ(request.get(), "changed after a was created");  // nothing leaked out
  });
}

// Many tasks, randomised interleavings: each keeps its own value across every await.
TEST(ContextVar, ManyTasksKeepTheirOwnValues) {
  asyncio::run([]() -> asyncio::Coroutine<void> {
    static cv::ContextVar<int> id("id");
    auto worker = [](int mine) -> asyncio::Coroutine<bool> {
      id.set(mine);
      for (int i = 0; i < 20; ++i) {
        if ((mine * 7 + i) % 3 == 0) {
          co_await asyncio::sleep(0s);
        } else {
          co_await asyncio::sleep(std::chrono::microseconds((mine + i) % 50));
        }
        if (id.get() != mine) co_return false;
      }
      co_return true;
    };
    std::vector<asyncio::Task<bool>> tasks;
    for (int i = 0; i < 200; ++i) tasks.push_back(asyncio::create_task(worker(i)));
    int ok = 0;
    for (auto& task : tasks) ok += (co_await task) ? 1 : 0;
    EXPECT_EQ(ok, 200);
    EXPECT_THROW(id.get(), pyconc::LookupError);
  });
}

}  // namespace
