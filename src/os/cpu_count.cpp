#include "pyconc/os.hpp"

#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <string>

namespace pyconc::os {

long detail::cgroup_cpu_limit(const char* root) {
  const std::string base(root);
  // cgroup v2: "<quota> <period>" or "max <period>".
  if (std::ifstream v2(base + "/cpu.max"); v2) {
    std::string quota;
    double period = 0;
    if (v2 >> quota >> period && quota != "max" && period > 0)
      return static_cast<long>(std::ceil(std::stod(quota) / period));
    return 0;
  }
  // cgroup v1: a quota of -1 means none.
  std::ifstream quota_file(base + "/cpu/cpu.cfs_quota_us");
  std::ifstream period_file(base + "/cpu/cpu.cfs_period_us");
  double quota = -1, period = 0;
  if (quota_file >> quota && period_file >> period && quota > 0 && period > 0)
    return static_cast<long>(std::ceil(quota / period));
  return 0;
}

long cpu_count() { return std::max(1L, sysconf(_SC_NPROCESSORS_ONLN)); }

long process_cpu_count() {
  long count = cpu_count();
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) count = CPU_COUNT(&set);
  if (const long limit = detail::cgroup_cpu_limit(); limit > 0) count = std::min(count, limit);
  return std::max(1L, count);
}

}  // namespace pyconc::os
