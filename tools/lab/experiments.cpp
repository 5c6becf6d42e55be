#include "experiments.hpp"

namespace pyconc::lab {

const std::vector<Experiment>& experiments() {
  static const std::vector<Experiment> all = {
      {"ctxswitch", "a thread switch is cheaper than a process switch (the TLB)", run_ctxswitch},
      {"gil", "CPU-bound threads gain nothing under the GIL, I/O-bound threads do", run_gil},
      {"race", "a missing lock loses updates; the GIL does not prevent it", run_race},
      {"prodcons", "the five producer/consumer stages fail in their own ways", run_prodcons},
      {"fanout", "I/O fan-out: threads and asyncio overlap the waits", run_fanout},
      {"mass", "coroutines are far cheaper than threads", run_mass},
      {"wsgi", "a prefork server's capacity is workers x threads", run_wsgi},
  };
  return all;
}

}  // namespace pyconc::lab
