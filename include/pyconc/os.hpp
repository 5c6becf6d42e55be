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

}  // namespace pyconc::os
