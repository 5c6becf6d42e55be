// PYCONC_ASSERT: invariant checks for debug and sanitizer builds.
//
// Active unless NDEBUG is defined, and whenever PYCONC_CHECKS is (the sanitizer presets
// define it: their RelWithDebInfo flags define NDEBUG). A
// failed check names the invariant and the place, and aborts: it reports a bug in pyconc
// or a misuse that C++ cannot report any other way (a Lock destroyed while a thread waits
// for it, say).
#pragma once

#include <cstdio>
#include <cstdlib>

#if !defined(NDEBUG) || defined(PYCONC_CHECKS)
#define PYCONC_ASSERT(condition, what)                                                   \
  do {                                                                                   \
    if (!(condition)) {                                                                  \
      std::fprintf(stderr, "pyconc: %s (%s) failed at %s:%d\n", what, #condition, __FILE__, \
                   __LINE__);                                                            \
      std::abort();                                                                      \
    }                                                                                    \
  } while (0)
#define PYCONC_CHECKS_ENABLED 1
#else
#define PYCONC_ASSERT(condition, what) \
  do {                                 \
  } while (0)
#define PYCONC_CHECKS_ENABLED 0
#endif
