#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "pyconc/os.hpp"
#include "support.hpp"

namespace {

namespace fs = std::filesystem;

// A fake cgroup filesystem in a scratch directory.
class FakeCgroup {
 public:
  FakeCgroup() : root_(fs::temp_directory_path() / ("pyconc-cgroup-" + std::to_string(getpid()))) {
    fs::remove_all(root_);
    fs::create_directories(root_ / "cpu");
  }
  ~FakeCgroup() { fs::remove_all(root_); }
  void write(const std::string& file, const std::string& text) { std::ofstream(root_ / file) << text; }
  long limit() const { return pyconc::os::detail::cgroup_cpu_limit(root_.c_str()); }

 private:
  fs::path root_;
};

TEST(CpuCount, CgroupV2Quota) {
  FakeCgroup cg;
  cg.write("cpu.max", "max 100000\n");
  EXPECT_EQ(cg.limit(), 0);  // no quota
  cg.write("cpu.max", "100000 100000\n");
  EXPECT_EQ(cg.limit(), 1);
  cg.write("cpu.max", "150000 100000\n");
  EXPECT_EQ(cg.limit(), 2);  // 1.5 CPUs round up
}

TEST(CpuCount, CgroupV1Quota) {
  FakeCgroup cg;
  cg.write("cpu/cpu.cfs_quota_us", "-1\n");
  cg.write("cpu/cpu.cfs_period_us", "100000\n");
  EXPECT_EQ(cg.limit(), 0);
  cg.write("cpu/cpu.cfs_quota_us", "50000\n");
  EXPECT_EQ(cg.limit(), 1);
  cg.write("cpu/cpu.cfs_quota_us", "300000\n");
  EXPECT_EQ(cg.limit(), 3);
}

TEST(CpuCount, ProcessCountWithinMachineCount) {
  EXPECT_GE(pyconc::os::process_cpu_count(), 1);
  EXPECT_LE(pyconc::os::process_cpu_count(), pyconc::os::cpu_count());
}

}  // namespace
