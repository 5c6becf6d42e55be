#include "report.hpp"

#include <sys/utsname.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

namespace pyconc::lab {

MachineFacts machine_facts() {
  MachineFacts facts;
  facts.cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);) {
    if (facts.cpu_model.empty() && line.rfind("model name", 0) == 0)
      facts.cpu_model = line.substr(line.find(':') + 2);
    if (line.rfind("flags", 0) == 0 && line.find(" pcid") != std::string::npos) facts.pcid = true;
  }
  utsname name{};
  if (::uname(&name) == 0) facts.kernel = std::string(name.sysname) + " " + name.release;
  return facts;
}

namespace {

std::string quoted(const std::string& text) {
  std::string out = "\"";
  for (char c : text) out += c == '"' ? '\'' : c;
  return out + "\"";
}

std::string lines_script(const Chart& chart) {
  std::ostringstream script;
  for (std::size_t s = 0; s < chart.series.size(); ++s) {
    script << "$d" << s << " << EOD\n";
    for (const auto& [x, y] : chart.series[s].points) script << x << " " << y << "\n";
    script << "EOD\n";
  }
  script << "plot ";
  for (std::size_t s = 0; s < chart.series.size(); ++s)
    script << (s ? ", " : "") << "$d" << s << " using 1:2 with linespoints lw 2 title "
           << quoted(chart.series[s].name);
  return script.str() + "\n";
}

std::string bars_script(const Chart& chart) {
  std::ostringstream script;
  script << "set style data histograms\nset style histogram clustered gap 1\n"
            "set style fill solid 0.8 border -1\nset boxwidth 0.9\n$bars << EOD\n";
  for (std::size_t i = 0; i < chart.xtics.size(); ++i) {
    script << quoted(chart.xtics[i]);
    for (const auto& series : chart.series)
      script << " " << (i < series.points.size() ? series.points[i].second : 0.0);
    script << "\n";
  }
  script << "EOD\nplot ";
  for (std::size_t s = 0; s < chart.series.size(); ++s)
    script << (s ? ", " : "") << "$bars using " << s + 2 << (s ? "" : ":xtic(1)") << " title "
           << quoted(chart.series[s].name);
  return script.str() + "\n";
}

}  // namespace

std::string draw_chart(const Chart& chart, const std::string& experiment,
                       const std::filesystem::path& folder) {
  const std::string file = experiment + "_" + chart.name + ".svg";
  std::ostringstream script;
  script << "set terminal svg size 760,440 dynamic font 'sans,12' background '#ffffff'\n"
         << "set output " << quoted((folder / file).string()) << "\n"
         << "set title " << quoted(chart.title) << "\nset xlabel " << quoted(chart.xlabel)
         << "\nset ylabel " << quoted(chart.ylabel) << "\nset grid\nset key top left\n";
  if (chart.logx) script << "set logscale x 2\n";
  if (chart.logy) script << "set logscale y 10\n";
  if (!chart.logy) script << "set yrange [0:*]\n";  // a log axis has no zero
  script << (chart.bars ? bars_script(chart) : lines_script(chart));
  // gnuplot's warnings go to a log beside the report, not into the lab's tables.
  const std::string command = "gnuplot 2>>'" + (folder / "gnuplot.log").string() + "'";
  FILE* gnuplot = ::popen(command.c_str(), "w");
  if (!gnuplot) {
    std::cerr << "pyconc-lab: cannot run gnuplot: chart " << file << " not drawn\n";
    return {};
  }
  const std::string text = script.str();
  std::fwrite(text.data(), 1, text.size(), gnuplot);
  if (::pclose(gnuplot) != 0) {
    std::cerr << "pyconc-lab: gnuplot failed (is Debian's gnuplot-nox installed?): chart "
              << file << " not drawn\n";
    return {};
  }
  return file;
}

std::filesystem::path write_report(const std::vector<Findings>& all, const Options& options,
                                   const MachineFacts& machine) {
  std::filesystem::create_directories(options.out);
  std::ofstream report(options.out / "report.md");
  report << "# pyconc-lab report" << (options.quick ? " (quick mode)" : "") << "\n\n"
         << "Machine: " << machine.cpu_model << ", " << machine.cpus << " CPUs, "
         << machine.kernel << "; PCID " << (machine.pcid ? "present" : "absent") << ".\n"
         << (options.quick ? "\nQuick mode: small sizes and few rounds, to see the shapes; "
                             "run without --quick for the figures.\n"
                           : "");
  std::ofstream results(options.out / "results.tsv");
  results << "fact\tvalue\n";
  for (const auto& findings : all) {
    report << "\n## " << findings.experiment() << "\n";
    for (const auto& block : findings.markdown()) report << "\n" << block;
    for (const auto& chart : findings.charts()) {
      const auto file = draw_chart(chart, findings.experiment(), options.out);
      if (!file.empty()) report << "\n![" << chart.title << "](" << file << ")\n";
    }
    for (const auto& [name, value] : findings.facts()) results << name << "\t" << value << "\n";
  }
  return options.out / "report.md";
}

}  // namespace pyconc::lab
