// Internal: file descriptors inside pickled arguments (a Connection given to a spawned
// Process). Pickling records the descriptor in the start's list of descriptors to pass and
// writes its index; the child, which receives the list (same numbers under spawn, new ones
// from a forkserver), turns the index back into its own descriptor.
#pragma once

#include <cstdint>

namespace pyconc::multiprocessing::detail {

// While pickling a Process's arguments: the index of `fd` in what the child will receive.
// PicklingError outside a Process start (a descriptor means nothing in another process).
std::uint32_t export_fd(int fd);
// While a child unpickles its arguments: its descriptor for `index`.
int import_fd(std::uint32_t index);

}  // namespace pyconc::multiprocessing::detail
