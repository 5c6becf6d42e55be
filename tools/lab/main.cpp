// pyconc-lab: the seeds' claims about concurrency, each an experiment a reader can run.
//
//   pyconc-lab --quick              every experiment, small sizes (under a minute on 2 cores)
//   pyconc-lab gil race --out DIR   some of them, full sizes, report in DIR
//
// Each experiment prints its tables as it goes; at the end report.md (tables and SVG
// charts drawn by gnuplot) and results.tsv (every measured fact) are written to --out.
#include <CLI/CLI.hpp>

#include <chrono>
#include <iostream>
#include <pyconc/multiprocessing.hpp>

#include "experiments.hpp"
#include "report.hpp"

namespace lab = pyconc::lab;

int main(int argc, char** argv) {
  pyconc::multiprocessing::freeze_support();
  CLI::App app{"pyconc-lab: the seeds' claims about concurrency, measured"};
  lab::Options options;
  std::string out = "lab-report";
  app.add_flag("--quick", options.quick, "small sizes: every experiment in under a minute");
  app.add_option("--out", out, "folder for report.md, the charts and results.tsv")
      ->capture_default_str();
  app.fallthrough();
  std::vector<const lab::Experiment*> chosen;
  for (const auto& experiment : lab::experiments()) {
    auto* command = app.add_subcommand(experiment.name, experiment.claim);
    command->callback([&chosen, &experiment] { chosen.push_back(&experiment); });
  }
  app.add_subcommand("all", "every experiment (the default)");
  app.require_subcommand(0);
  CLI11_PARSE(app, argc, argv);
  options.out = out;
  if (chosen.empty())
    for (const auto& experiment : lab::experiments()) chosen.push_back(&experiment);

  const auto machine = lab::machine_facts();
  std::cout << "pyconc-lab" << (options.quick ? " --quick" : "") << ": " << machine.cpu_model
            << ", " << machine.cpus << " CPUs, PCID " << (machine.pcid ? "yes" : "no") << "\n";
  std::vector<lab::Findings> all;
  const auto started = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < chosen.size(); ++i) {
    const auto& experiment = *chosen[i];
    std::cerr << "\n[" << i + 1 << "/" << chosen.size() << "] " << experiment.name << ": "
              << experiment.claim << "\n";
    std::cout << "\n== " << experiment.name << " ==\n" << std::flush;
    lab::Findings findings(experiment.name);
    try {
      experiment.run(options, findings);
    } catch (const std::exception& error) {
      std::cerr << "pyconc-lab: " << experiment.name << " failed: " << error.what() << "\n";
      return 1;
    }
    all.push_back(std::move(findings));
  }
  const auto report = lab::write_report(all, options, machine);
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
  std::cout << "\npyconc-lab: " << all.size() << " experiments in " << lab::fixed(took.count())
            << " s; report: " << std::filesystem::absolute(report).string() << "\n";
  return 0;
}
