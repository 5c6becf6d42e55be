// Internal: frees the calling thread's local<T> values. Thread's bootstrap calls it before
// the thread counts as stopped; foreign threads get it from a thread_local destructor.
#pragma once

namespace pyconc::threading::detail {
void run_thread_local_cleanup();
}
