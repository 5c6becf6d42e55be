// Seed 004's "공유 네임스페이스 | Manager() (dict, list 공유 등)" and "Manager().Queue() →
// 멀티프로세싱 환경에서 공유 큐", as Python's documentation shows the Manager:
//   def f(d, l, q):
//       d[1] = '1'; d[2] = 'two'; l.reverse(); q.put('done')
//   with Manager() as manager:
//       d = manager.dict(); l = manager.list(range(10)); q = manager.Queue()
//       p = Process(target=f, args=(d, l, q)); p.start(); p.join()
//       print(d); print(l); print(q.get())
#include <pyconc/multiprocessing.hpp>

#include <cstdio>
#include <string>

namespace mp = pyconc::multiprocessing;
namespace managers = pyconc::multiprocessing::managers;

void f(managers::DictProxy<int, std::string> d, managers::ListProxy<int> l, managers::QueueProxy<std::string> q) {
  d[1] = "1";
  d[2] = "two";
  l.reverse();
  q.put("done");
}

int main() {
  mp::freeze_support();
  auto manager = mp::Manager();  // the server process; shut down when `manager` goes
  auto d = manager.dict<int, std::string>();
  auto l = manager.list<int>({0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
  auto q = manager.Queue<std::string>();
  mp::Process p(f, d, l, q);
  p.start();
  p.join();

  std::printf("{");
  const char* separator = "";
  for (const auto& [key, value] : d.items()) {
    std::printf("%s%d: '%s'", separator, key, value.c_str());
    separator = ", ";
  }
  std::printf("}\n[");
  separator = "";
  for (int x : l.copy()) {
    std::printf("%s%d", separator, x);
    separator = ", ";
  }
  std::printf("]\n%s\n", q.get().c_str());
  std::printf("server: %s\n", manager.process()->name().c_str());
}
