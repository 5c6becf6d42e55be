// Seed 000, "Thread 상속": a Thread subclass that overrides run().
//   class MyThread(threading.Thread): def run(self): ...
#include <pyconc/threading.hpp>

#include <chrono>
#include <cstdio>
#include <thread>

namespace threading = pyconc::threading;

class MyThread : public threading::Thread {
 public:
  MyThread(std::string name, std::chrono::milliseconds duration)
      : Thread(threading::ThreadOptions{.name = std::move(name)}), duration_(duration) {}

  void run() override {
    std::printf("%s: 작업 시작\n", name().c_str());
    std::this_thread::sleep_for(duration_);
    std::printf("%s: 작업 완료\n", name().c_str());
  }

 private:
  std::chrono::milliseconds duration_;
};

int main() {
  MyThread t("worker-1", std::chrono::milliseconds(200));  // the seed sleeps 2 s
  t.start();
  t.join();  // a subclass runs in the object: join before it goes out of scope
}
