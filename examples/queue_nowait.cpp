// Seed 000, "타임아웃과 논블로킹": put_nowait / put(timeout) raising Full, get_nowait raising Empty.
#include <pyconc/queue.hpp>

#include <chrono>
#include <cstdio>
#include <string>

using namespace std::chrono_literals;
namespace queue = pyconc::queue;

int main() {
  queue::Queue<std::string> q(2);
  q.put("a");
  q.put("b");

  // 즉시 반환 — 큐가 가득 차면 예외
  try {
    q.put_nowait("data");
  } catch (const queue::Full&) {
    std::printf("큐가 가득 참\n");
  }

  // 시간 제한 대기 — the seed waits 5 s; 0.2 s here
  try {
    q.put("data", true, 200ms);
  } catch (const queue::Full&) {
    std::printf("0.2초 내에 빈 공간이 생기지 않음\n");
  }

  q.get();
  q.get();
  // 큐가 비었을 때 즉시 반환
  try {
    std::string data = q.get_nowait();
  } catch (const queue::Empty&) {
    std::printf("큐가 비어 있음\n");
  }

  // The C++ twins that do not throw: for hot paths.
  if (!q.try_get()) std::printf("try_get: 비어 있음 (예외 없이)\n");
}
