// Seed 004, "프로세스 종료 terminate()": a child stuck in a loop is stopped from outside;
// its exitcode is -SIGTERM (-15), as in Python. A fork-context child may run a lambda.
#include <pyconc/multiprocessing.hpp>

#include <chrono>
#include <cstdio>
#include <thread>

namespace mp = pyconc::multiprocessing;
using namespace std::chrono_literals;

int main() {
  mp::freeze_support();
  auto [ready_in, ready_out] = mp::Pipe(false);
  auto p = mp::get_context("fork").Process([ready = ready_out]() mutable {
    ready.send(true);  // "I am running"
    for (;;) std::this_thread::sleep_for(1s);
  });
  p.start();
  ready_in.recv<bool>();
  std::printf("alive before terminate: %s\n", p.is_alive() ? "True" : "False");
  p.terminate();
  p.join();
  std::printf("alive after terminate: %s\n", p.is_alive() ? "True" : "False");
  std::printf("exitcode: %d\n", *p.exitcode());
}
