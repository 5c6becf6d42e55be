// Helpers for the multiprocessing tests: every start method, and waiting for a file.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>

#include "parked.hpp"
#include "pyconc/multiprocessing.hpp"

namespace pyconc::testing {

// Each test that takes a start method runs under all three.
class EveryStartMethod : public ::testing::TestWithParam<std::string> {
 protected:
  // For tests that fork while other threads of this process allocate: under ASan or TSan
  // the child can hang in the sanitizer's own allocator (parked.hpp), so fork is skipped
  // there; spawn and forkserver do not fork this process and still run.
  bool fork_with_threads_unsupported() const { return GetParam() == "fork" && kSanitizerAllocator; }
  pyconc::multiprocessing::Context context() const { return pyconc::multiprocessing::get_context(GetParam()); }
};

inline std::string start_method_test_name(const ::testing::TestParamInfo<std::string>& info) { return info.param; }

#define PYCONC_EVERY_START_METHOD(Suite)                                                           \
  INSTANTIATE_TEST_SUITE_P(Methods, Suite, ::testing::Values("fork", "spawn", "forkserver"), \
                           pyconc::testing::start_method_test_name)

// A fresh path in the temporary directory, removed by the destructor.
class TempPath {
 public:
  explicit TempPath(const std::string& tag) {
    static int counter = 0;
    path_ = "/tmp/pyconc-test-" + std::to_string(::getpid()) + "-" + tag + "-" + std::to_string(++counter);
    std::remove(path_.c_str());
  }
  ~TempPath() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }
  std::string read() const {
    std::ifstream in(path_);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  // Waits (generously) until another process has written the file.
  bool wait_exists(std::chrono::seconds limit = std::chrono::seconds(60)) const {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (::access(path_.c_str(), F_OK) != 0) {
      if (std::chrono::steady_clock::now() > end) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return true;
  }

 private:
  std::string path_;
};

// A value whose pickling fails when it is negative, for the "cannot be pickled" paths.
struct RefusesToPickle {
  int x = 0;
  template <class Archive>
  void serialize(Archive& archive) {
    if (x < 0) throw std::runtime_error("refuses to be pickled");
    archive(x);
  }
};

inline void write_file(const std::string& path, const std::string& text) {
  const std::string partial = path + ".partial";
  {
    std::ofstream out(partial);
    out << text;
  }
  std::rename(partial.c_str(), path.c_str());  // readers see all of it or nothing
}

// Gone (reaped, or never ours to signal), or a zombie waiting to be reaped: either way no
// longer running.
inline bool process_ended(pid_t pid) {
  if (::kill(pid, 0) != 0) return true;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return true;
  const auto close = line.rfind(')');
  return close != std::string::npos && close + 2 < line.size() && (line[close + 2] == 'Z' || line[close + 2] == 'X');
}

}  // namespace pyconc::testing
