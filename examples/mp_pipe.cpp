// Seed 004, "데이터 파이프 Pipe()": the parent and a child talk through both ends of a Pipe.
//   parent_conn, child_conn = Pipe()
//   p = Process(target=f, args=(child_conn,)); p.start()
//   print(parent_conn.recv()); parent_conn.send(...); p.join()
#include <pyconc/multiprocessing.hpp>

#include <cstdio>
#include <string>
#include <vector>

namespace mp = pyconc::multiprocessing;

void child(mp::Connection conn) {
  conn.send(std::vector<std::string>{"42", "None", "hello"});
  const auto reply = conn.recv<std::string>();
  std::printf("child got: %s\n", reply.c_str());
  conn.close();
}

int main() {
  mp::freeze_support();
  auto [parent_conn, child_conn] = mp::Pipe();
  mp::Process p(child, child_conn);
  p.start();
  child_conn.close();  // the child has its own copy of this end
  const auto items = parent_conn.recv<std::vector<std::string>>();
  std::printf("parent got: [%s, %s, %s]\n", items[0].c_str(), items[1].c_str(), items[2].c_str());
  parent_conn.send(std::string("thanks"));
  p.join();
  try {
    parent_conn.recv<std::string>();
  } catch (const pyconc::EOFError&) {
    std::printf("EOFError: the child has closed its end\n");
  }
}
