// A subprocess whose output is read line by line while it runs (Python's documented recipe):
//   proc = await asyncio.create_subprocess_exec(
//       'sh', '-c', 'for i in 1 2 3; do echo "step $i"; sleep 0.1; done; exit 3',
//       stdout=asyncio.subprocess.PIPE)
//   while line := await proc.stdout.readline():
//       print("got:", line.decode().rstrip())
//   print("exit code:", await proc.wait())
// and communicate(), which feeds stdin and collects the output in one call.
#include <pyconc/asyncio.hpp>

#include <cstdio>
#include <string>

namespace asyncio = pyconc::asyncio;
namespace sp = asyncio::subprocess;

asyncio::Coroutine<void> main_coroutine() {
  auto proc = co_await asyncio::create_subprocess_exec(
      "sh", "-c", "for i in 1 2 3; do echo \"step $i\"; sleep 0.1; done; exit 3",
      asyncio::SubprocessOptions{.std_out = sp::PIPE});
  for (;;) {
    std::string line = co_await proc.std_out()->readline();  // each line as soon as it is printed
    if (line.empty()) break;                                  // EOF: the child closed its stdout
    line.pop_back();
    std::printf("got: %s\n", line.c_str());
  }
  std::printf("exit code: %d\n", co_await proc.wait());

  auto sorter = co_await asyncio::create_subprocess_exec("sort", std::vector<std::string>{},
                                                         {.std_in = sp::PIPE, .std_out = sp::PIPE});
  auto output = co_await sorter.communicate("pear\napple\nfig\n");  // (stdout, stderr)
  std::printf("sorted:\n%s", output.first->c_str());
}

int main() { asyncio::run(main_coroutine()); }
