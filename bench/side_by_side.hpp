// Runs contenders in interleaved rounds (so machine noise hits them all alike) and reports
// each one's median next to the first contender's: the shape every peer comparison here has.
#pragma once

#include <algorithm>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

namespace bench {

inline double median(std::vector<double> samples) {
  std::sort(samples.begin(), samples.end());
  return samples[samples.size() / 2];
}

struct Contender {
  std::string name;
  std::function<double()> run;  // one measurement
  std::vector<double> samples;
};

// Keeps only the contenders whose name contains `only` (all when empty).
inline void keep_matching(std::vector<Contender>& contenders, const std::string& only) {
  if (only.empty()) return;
  std::erase_if(contenders, [&](const Contender& c) { return c.name.find(only) == std::string::npos; });
}

inline void run_interleaved(std::vector<Contender>& contenders, int rounds) {
  for (int r = 0; r < rounds; ++r)
    for (auto& c : contenders) c.samples.push_back(c.run());
}

}  // namespace bench
