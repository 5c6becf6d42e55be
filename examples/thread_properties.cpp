// Seed 000, "스레드 속성" and seed 004, "주요 스레드 정보": name, daemon, is_alive, ident,
// current_thread, active_count, enumerate.
#include <pyconc/threading.hpp>

#include <cstdio>
#include <string>

namespace threading = pyconc::threading;

int main() {
  threading::Thread t({.name = "my-thread"}, [] {});

  std::printf("이름: %s\n", t.name().c_str());                       // my-thread
  std::printf("데몬 여부: %s\n", t.daemon() ? "True" : "False");      // False
  std::printf("생존 여부: %s\n", t.is_alive() ? "True" : "False");    // False (start() 전)
  std::printf("식별자: %s\n", t.ident() ? std::to_string(*t.ident()).c_str() : "None");

  t.start();
  t.join();
  std::printf("start() 후 식별자 있음: %s\n", t.ident() ? "True" : "False");

  std::printf("current_thread: %s\n", threading::current_thread().name().c_str());
  std::printf("active_count: %zu\n", threading::active_count());
  for (const threading::Thread& thread : threading::enumerate())
    std::printf("enumerate: %s\n", thread.repr().c_str());
}
