#include "pyconc/futures.hpp"
#include "support.hpp"

TEST(FuturesSmoke, SubmitAndResult) {
  pyconc::futures::ThreadPoolExecutor pool(2);
  auto f = pool.submit([](int x) { return x * 2; }, 21);
  EXPECT_EQ(f.result(), 42);
}
