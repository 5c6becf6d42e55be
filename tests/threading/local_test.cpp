#include <mutex>

#include "support.hpp"

namespace {

using namespace pyconc::testing;
using pyconc::threading::local;
using pyconc::threading::Thread;

struct Tracked {
  static inline std::atomic<int> alive{0};
  static inline std::atomic<int> constructed{0};
  explicit Tracked(int seed = 0) : value(seed) {
    alive.fetch_add(1);
    constructed.fetch_add(1);
  }
  Tracked(const Tracked&) = delete;
  ~Tracked() { alive.fetch_sub(1); }
  int value;
};

// covers TLS-01, TLS-02
TEST(Local, EachThreadSeesItsOwnFreshValue) {
  local<std::vector<int>> values;
  values->push_back(1);
  std::size_t seen_size = 99;
  Thread t([&] {
    seen_size = values->size();  // Python: AttributeError; here a fresh, empty value
    values->push_back(2);
    values->push_back(3);
  });
  t.start();
  t.join();
  EXPECT_EQ(seen_size, 0u);
  EXPECT_EQ(*values, (std::vector<int>{1}));
}

// covers TLS-03
TEST(Local, ConstructorArgumentsReusedInEveryThread) {
  local<Tracked> tracked(41);
  int seen = 0;
  Thread t([&] { seen = tracked->value; });
  t.start();
  t.join();
  EXPECT_EQ(seen, 41);
  EXPECT_EQ(tracked->value, 41);
}

// covers TLS-05
TEST(Local, ValuesFreedWhenThreadsEnd) {
  local<Tracked> tracked;
  const int before = Tracked::alive.load();
  for (int i = 0; i < 10; ++i) {
    Thread t([&] { tracked->value = i; });
    t.start();
    t.join();
  }
  EXPECT_EQ(Tracked::alive.load(), before);  // all ten freed by join
  EXPECT_EQ(tracked.size(), 0u);
}

// covers TLS-07
TEST(Local, ConcurrentThreadsReadBackTheirOwn) {
  local<int> mine;
  std::atomic<int> mismatches{0};
  pyconc::threading::Barrier together(10);
  ThreadGroup group(10, [&](int id) {
    *mine = id;
    together.wait();
    for (int i = 0; i < 1000; ++i)
      if (*mine != id) mismatches.fetch_add(1);
  });
  group.join();
  EXPECT_EQ(mismatches.load(), 0);
}

TEST(Local, DestroyingTheLocalFreesEveryThreadsValue) {
  const int before = Tracked::alive.load();
  pyconc::threading::Event stop, ready;
  auto tracked = std::make_unique<local<Tracked>>();
  Thread t([&] {
    (*tracked)->value = 1;
    ready.set();
    stop.wait();
  });
  t.start();
  ready.wait();
  (*tracked)->value = 2;
  tracked.reset();
  EXPECT_EQ(Tracked::alive.load(), before);
  stop.set();
  t.join();
}

// covers TLS-04 (C++ analogue: constructor arguments the value type does not accept are
// rejected at compile time instead of raising TypeError)
TEST(Local, ConstructorArgumentsMustFitTheValueType) {
  static_assert(std::is_constructible_v<local<Tracked>, int>);
  static_assert(std::is_constructible_v<local<std::vector<int>>>);
  static_assert(!std::is_constructible_v<local<std::vector<int>>, std::string>);
  static_assert(!std::is_constructible_v<local<Tracked>, std::string>);
  SUCCEED();
}

struct WithClassDefault {
  static inline std::atomic<int> shared_default{0};  // Python: a class attribute
  int own = 0;
};

// covers TLS-06 (C++ analogue: the per-thread storage cannot be replaced, since a local is
// neither copyable nor assignable; class-level (static) members are shared by all threads)
TEST(Local, StorageCannotBeReplacedAndClassMembersAreShared) {
  static_assert(!std::is_copy_assignable_v<local<int>>);
  static_assert(!std::is_move_assignable_v<local<int>>);
  local<WithClassDefault> value;
  value->own = 1;
  WithClassDefault::shared_default = 7;
  int seen_shared = 0, seen_own = -1;
  Thread t([&] {
    seen_shared = value->shared_default;
    seen_own = value->own;
  });
  t.start();
  t.join();
  EXPECT_EQ(seen_shared, 7);
  EXPECT_EQ(seen_own, 0);
}

}  // namespace
