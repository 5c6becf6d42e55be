// Seed 000, "concurrent.futures": three URLs submitted, results taken with as_completed,
// each future mapped back to its URL.
#include <pyconc/futures.hpp>

#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
namespace futures = pyconc::futures;

std::string fetch_url(const std::string& url) {
  std::this_thread::sleep_for(300ms);  // I/O 바운드 작업 시뮬레이션 (the seed sleeps 1 s)
  return url + " 완료";
}

int main() {
  const std::vector<std::string> urls = {"https://a.com", "https://b.com", "https://c.com"};

  futures::ThreadPoolExecutor executor(3);  // I/O 바운드 작업에 적합
  std::map<futures::Future<std::string>, std::string> future_to_url;
  for (const auto& url : urls) future_to_url[executor.submit(fetch_url, url)] = url;

  std::vector<futures::Future<std::string>> fs;
  for (const auto& [future, url] : future_to_url) fs.push_back(future);
  for (auto& future : futures::as_completed(fs)) {
    const std::string& url = future_to_url[future];
    std::printf("%s → %s\n", url.c_str(), future.result().c_str());
  }
}
