// The lab's report: report.md (every experiment's tables and notes, with its charts),
// the charts as SVG drawn by gnuplot (Debian's gnuplot-nox), and results.tsv (every fact).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "findings.hpp"

namespace pyconc::lab {

struct MachineFacts {
  std::string cpu_model;
  long cpus = 0;
  bool pcid = false;  // process-context identifiers: a switch between processes keeps the TLB
  std::string kernel;
};
MachineFacts machine_facts();

// Writes the chart's SVG into `folder` and returns its file name, or an empty string (with
// the reason on stderr) when gnuplot is missing or fails.
std::string draw_chart(const Chart& chart, const std::string& experiment,
                       const std::filesystem::path& folder);

// Writes report.md and results.tsv; returns report.md's path.
std::filesystem::path write_report(const std::vector<Findings>& all, const Options& options,
                                   const MachineFacts& machine);

}  // namespace pyconc::lab
