// Seed 004, "여러 작업 병렬 처리 (submit + as_completed)": results in completion order.
#include <pyconc/futures.hpp>

#include <cstdio>
#include <string>
#include <vector>

namespace futures = pyconc::futures;

std::string download(int i) { return "파일 " + std::to_string(i) + " 완료"; }

int main() {
  futures::ThreadPoolExecutor executor;
  std::vector<futures::Future<std::string>> fs;
  for (int i = 0; i < 5; ++i) fs.push_back(executor.submit(download, i));
  for (auto& f : futures::as_completed(fs)) std::printf("%s\n", f.result().c_str());
}
