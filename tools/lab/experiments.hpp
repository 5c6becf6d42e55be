// pyconc-lab's experiments: each turns one claim of the seeds into a measurement.
#pragma once

#include <string>
#include <vector>

#include "findings.hpp"

namespace pyconc::lab {

struct Experiment {
  std::string name;
  std::string claim;  // what the seeds say, which the experiment measures
  void (*run)(const Options&, Findings&);
};

void run_ctxswitch(const Options&, Findings&);
void run_gil(const Options&, Findings&);
void run_race(const Options&, Findings&);
void run_prodcons(const Options&, Findings&);
void run_fanout(const Options&, Findings&);
void run_mass(const Options&, Findings&);
void run_wsgi(const Options&, Findings&);

// In the order a reader meets the claims in the seeds.
const std::vector<Experiment>& experiments();

}  // namespace pyconc::lab
