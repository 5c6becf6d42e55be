// pyconc::os — the CPU counts Python's os module reports (and one it does not), and
// Python's os.register_at_fork.
//
// cpu_count() is Python's os.cpu_count(): CPUs in the machine. process_cpu_count() is
// Python 3.13's os.process_cpu_count() (the CPUs this process may run on, from its
// affinity mask), further capped by the cgroup CPU quota (cgroup v2 cpu.max or v1
// cfs_quota_us), so a container given one CPU gets a small default pool.
//
// register_at_fork(before, after_in_parent, after_in_child) is Python's: `before` hooks run
// in the forking thread just before fork(), newest first; the after hooks run just after,
// oldest first, in the parent or in the child. Every module-level lock and registry of
// pyconc resets itself in a forked child through it. Unlike Python, any fork() of the
// process runs them (they are pthread_atfork handlers), not only os.fork().
//
//   auto workers = std::min<long>(32, pyconc::os::process_cpu_count() + 4);
//   pyconc::os::register_at_fork({}, {}, [] { reseed_random(); });
#pragma once

#include <functional>
#include <new>

namespace pyconc::os {

long cpu_count();
long process_cpu_count();

// Empty functions are skipped. Hooks cannot be unregistered (as in Python).
void register_at_fork(std::function<void()> before, std::function<void()> after_in_parent,
                      std::function<void()> after_in_child);

namespace detail {
// CPUs the cgroup CPU quota allows under the cgroup filesystem mounted at `root` (v2
// cpu.max, else v1 cpu/cpu.cfs_quota_us and cfs_period_us), rounded up; 0 for no quota.
long cgroup_cpu_limit(const char* root = "/sys/fs/cgroup");

// For the library's own foundation (the parking lot): its child hook runs before every
// other one, since the others may wait on locks that need it.
void register_at_fork_first(std::function<void()> after_in_child);

// A module-level lock that stays consistent across fork(): held by the forking thread
// during fork (so nothing it guards is half-changed), released in the parent, and made
// anew (unlocked) in the child, where the threads that might have wanted it are gone.
template <class L>
void fork_protect(L& lock) {
  register_at_fork([&lock] { lock.lock(); }, [&lock] { lock.unlock(); },
                   [&lock] { new (&lock) L(); });  // no destructor: it is held, by us
}
}  // namespace detail

}  // namespace pyconc::os
