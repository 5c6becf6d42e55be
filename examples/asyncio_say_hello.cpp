// Seed 004 "await: 코루틴을 비동기적으로 실행":
//   async def say_hello():
//       await asyncio.sleep(1)
//       print("Hello after 1 second")
//   asyncio.run(say_hello())
#include <pyconc/asyncio.hpp>

#include <chrono>
#include <cstdio>

namespace asyncio = pyconc::asyncio;

asyncio::Coroutine<void> say_hello() {
  co_await asyncio::sleep(std::chrono::seconds(1));
  std::printf("Hello after 1 second\n");
}

int main() {
  auto unawaited = say_hello();  // like `async def`: nothing has run yet
  std::printf("coroutine made, nothing printed yet\n");
  asyncio::run(std::move(unawaited));
}
