// pyconc::os — the CPU counts Python's os module reports, and one it does not.
//
// cpu_count() is Python's os.cpu_count(): CPUs in the machine. process_cpu_count() is
// Python 3.13's os.process_cpu_count() (the CPUs this process may run on, from its
// affinity mask), further capped by the cgroup CPU quota (cgroup v2 cpu.max or v1
// cfs_quota_us), so a container given one CPU gets a small default pool.
//
//   auto workers = std::min<long>(32, pyconc::os::process_cpu_count() + 4);
#pragma once

namespace pyconc::os {

long cpu_count();
long process_cpu_count();

namespace detail {
// CPUs the cgroup CPU quota allows under the cgroup filesystem mounted at `root` (v2
// cpu.max, else v1 cpu/cpu.cfs_quota_us and cfs_period_us), rounded up; 0 for no quota.
long cgroup_cpu_limit(const char* root = "/sys/fs/cgroup");
}  // namespace detail

}  // namespace pyconc::os
