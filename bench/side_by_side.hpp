// The shape of every peer comparison here: each contender measured in a fresh process of
// its own (this program re-run with --one NAME), rounds alternating the order, median and
// spread per contender, ratios against the first. Never two contenders in one process:
// whoever runs second there inherits warm malloc arenas and page tables, which a user who
// runs one program alone never sees.
//
//   PROGRAM [--rounds N] [--load K] [--only TEXT] [--size N]
//     --load K starts K CPU-bound processes (sh -c 'while :; do :; done') for the whole
//     measurement and stops them afterwards: the machine a service shares with others.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "cpu_burners.hpp"

namespace bench {

struct Measurement {
  double value = -1;
  double secondary = -1;  // Comparison::secondary_unit's figure, when there is one
};

struct Contender {
  std::string name;
  std::function<double(long size)> run;  // one measurement, in this process
  std::function<Measurement(long size)> run_both = {};  // instead of run: two figures at once
};

struct Comparison {
  std::string title;          // printed first; "%ld" is replaced by the size
  std::string unit;           // "ns/task", "M items/s", ...
  bool higher_is_better;      // for the ratio column: always "how many times better is ours"
  long default_size;
  std::vector<Contender> contenders;  // the first is pyconc
  std::vector<std::string> child_prefix = {};  // arguments before the flags, for the children
  std::string secondary_unit = {};  // a second figure per run (lower is better), e.g. "p99 ms"
};

inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

// Runs `self --one NAME --size N` and reads the number (or two) it prints; < 0 on failure.
inline Measurement measure_in_fresh_process(const std::string& self, const std::string& name, long size) {
  const std::string command = self + " --one '" + name + "' --size " + std::to_string(size);
  std::FILE* pipe = popen(command.c_str(), "r");
  Measurement m;
  if (!pipe) return m;
  if (std::fscanf(pipe, "%lf", &m.value) != 1) m.value = -1;
  if (std::fscanf(pipe, "%lf", &m.secondary) != 1) m.secondary = -1;
  if (pclose(pipe) != 0) m.value = -1;
  return m;
}

inline int run_comparison(int argc, char** argv, Comparison cmp) {
  int rounds = 5, load = 0;
  long size = cmp.default_size;
  std::string only, one;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--rounds") rounds = std::max(1, std::atoi(value.c_str()));
    else if (flag == "--load") load = std::atoi(value.c_str());
    else if (flag == "--only") only = value;
    else if (flag == "--size") size = std::atol(value.c_str());
    else if (flag == "--one") one = value;
    else return std::fprintf(stderr, "unknown flag %s\n", flag.c_str()), 2;
  }
  if (!one.empty()) {  // the child: one measurement of one contender
    for (auto& c : cmp.contenders) {
      if (c.name != one) continue;
      if (!c.run_both) return std::printf("%.6f\n", c.run(size)), 0;
      const Measurement m = c.run_both(size);
      return m.value < 0 ? 1 : (std::printf("%.6f %.6f\n", m.value, m.secondary), 0);
    }
    return 2;
  }
  std::erase_if(cmp.contenders, [&](const Contender& c) {
    return !only.empty() && c.name.find(only) == std::string::npos && &c != &cmp.contenders[0];
  });
  char exe[4096];
  const ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) return 2;
  exe[n] = '\0';
  // The same program, with any words its own main() consumed before the harness flags.
  std::string self = "'" + std::string(exe) + "'";
  for (const std::string& word : cmp.child_prefix) self += " '" + word + "'";

  std::string title = cmp.title;
  if (auto at = title.find("%ld"); at != std::string::npos) title.replace(at, 3, std::to_string(size));
  std::printf("%s\neach contender in its own process, %d rounds (order alternating), %d busy loop%s competing\n",
              title.c_str(), rounds, load, load == 1 ? "" : "s");
  std::fflush(stdout);
  std::vector<std::vector<double>> samples(cmp.contenders.size()), seconds(cmp.contenders.size());
  {
    pyconc::testing::CpuBurners burners(load);
    for (int r = 0; r < rounds; ++r) {
      for (std::size_t k = 0; k < cmp.contenders.size(); ++k) {
        const std::size_t i = r % 2 == 0 ? k : cmp.contenders.size() - 1 - k;
        const Measurement m = measure_in_fresh_process(self, cmp.contenders[i].name, size);
        if (m.value < 0) return std::fprintf(stderr, "%s failed\n", cmp.contenders[i].name.c_str()), 1;
        samples[i].push_back(m.value);
        if (m.secondary >= 0) seconds[i].push_back(m.secondary);
      }
    }
  }
  const double ours = median(samples[0]);
  std::printf("  %-40s %12s %21s %10s", "contender", cmp.unit.c_str(), "spread (min-max)", "pyconc is");
  if (!cmp.secondary_unit.empty()) std::printf(" %12s %21s %10s", cmp.secondary_unit.c_str(), "spread", "pyconc is");
  std::printf("\n");
  for (std::size_t i = 0; i < cmp.contenders.size(); ++i) {
    const auto [lo, hi] = std::minmax_element(samples[i].begin(), samples[i].end());
    const double m = median(samples[i]);
    const double better = cmp.higher_is_better ? ours / m : m / ours;
    std::printf("  %-40s %12.2f %10.2f-%-10.2f %9.2fx", cmp.contenders[i].name.c_str(), m, *lo, *hi, better);
    if (!cmp.secondary_unit.empty() && !seconds[i].empty() && !seconds[0].empty()) {
      const auto [lo2, hi2] = std::minmax_element(seconds[i].begin(), seconds[i].end());
      const double m2 = median(seconds[i]);
      std::printf(" %12.2f %10.2f-%-10.2f %9.2fx", m2, *lo2, *hi2, m2 / median(seconds[0]));
    }
    std::printf("\n");
  }
  return 0;
}

}  // namespace bench
