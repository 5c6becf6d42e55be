// Start methods and contexts (spec CTX-01..05).
#include "mp_support.hpp"

namespace mp = pyconc::multiprocessing;

namespace {

void nothing() {}

// covers CTX-01, CTX-02: every Linux method is offered, the default (forkserver, as Python 3.14)
// first.
TEST(Context, AllStartMethodsDefaultFirst) {
  const auto all = mp::get_all_start_methods();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0], "forkserver");
  EXPECT_NE(std::find(all.begin(), all.end(), "fork"), all.end());
  EXPECT_NE(std::find(all.begin(), all.end(), "spawn"), all.end());
}

// covers CTX-03: a context is bound to its method; get_context() of it is itself; its
// set_start_method raises ValueError; an unknown name is a ValueError.
TEST(Context, ContextsAreBoundToTheirMethod) {
  for (std::string name : {"fork", "spawn", "forkserver"}) {
    const auto ctx = mp::get_context(name);
    EXPECT_EQ(ctx.get_start_method(), name);
    EXPECT_EQ(ctx.get_context().get_start_method(), name);
    EXPECT_THROW(ctx.set_start_method("fork"), pyconc::ValueError);
    EXPECT_EQ(ctx.Process(nothing).start_method(), mp::get_context(name).start_method());
  }
  try {
    mp::get_context("x");
    FAIL();
  } catch (const pyconc::ValueError& e) {
    EXPECT_STREQ(e.what(), "cannot find context for 'x'");
  }
}

// covers CTX-04: set_start_method works once; force overrides; None with force resets; allow_none
// sees the reset state; get_start_method() fixes the default.
TEST(Context, SetStartMethodOnce) {
  mp::set_start_method(std::nullopt, true);
  EXPECT_EQ(mp::get_start_method(true), std::nullopt);
  mp::set_start_method("spawn");
  EXPECT_EQ(mp::get_start_method(), "spawn");
  EXPECT_THROW(mp::set_start_method("fork"), pyconc::RuntimeError);
  EXPECT_EQ(mp::Process(nothing).start_method(), mp::StartMethod::spawn);
  mp::set_start_method("fork", true);
  EXPECT_EQ(mp::get_start_method(), "fork");
  mp::set_start_method(std::nullopt, true);
  EXPECT_EQ(mp::get_start_method(), "forkserver");  // fixed by asking
  EXPECT_THROW(mp::set_start_method("spawn"), pyconc::RuntimeError);
  EXPECT_THROW(mp::set_start_method("nope", true), pyconc::ValueError);
  mp::set_start_method(std::nullopt, true);
}

// covers CTX-05: a context chosen at run time takes any callable; spawn and forkserver refuse at
// start() what they cannot carry, with PicklingError; fork runs it.
TEST(Context, UnpicklableTargetsAreRefusedAtStart) {
  int captured = 7;
  for (std::string name : {"spawn", "forkserver"}) {
    auto p = mp::get_context(name).Process([captured] { (void)captured; });
    EXPECT_THROW(p.start(), pyconc::pickle::PicklingError) << name;
    EXPECT_FALSE(p.is_alive());
  }
  auto p = mp::get_context("fork").Process([captured] {
    if (captured != 7) throw pyconc::SystemExit(2);
  });
  p.start();
  p.join();
  EXPECT_EQ(p.exitcode(), 0);
}

}  // namespace
