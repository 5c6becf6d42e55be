// Builds a process-wide object while the program loads, before main() and so before any
// thread of ours exists.
//
// The library's process-wide slots (hooks, registries, the fork handlers) are function-local
// statics, so they are built on first use whatever the order of static initialization. But a
// fork() that comes while another thread is still inside that first use leaves the child
// with the static's guard marked "in progress" by a thread that does not exist there: the
// child hangs at its first use (seen as a hang in excepthook() in a child forked just as a
// parent thread first raised). Touching the slot at load time closes that window.
#pragma once

#define PYCONC_DETAIL_CONCAT2(a, b) a##b
#define PYCONC_DETAIL_CONCAT(a, b) PYCONC_DETAIL_CONCAT2(a, b)

// At namespace scope in a .cpp file: PYCONC_BUILD_AT_LOAD(slot());
#define PYCONC_BUILD_AT_LOAD(expression)                                                \
  [[maybe_unused]] const bool PYCONC_DETAIL_CONCAT(pyconc_built_at_load_, __LINE__) = \
      ((void)(expression), true)
