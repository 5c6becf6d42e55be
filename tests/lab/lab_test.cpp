// pyconc-lab: each experiment runs in quick mode, as a user would run it, and its numbers
// are checked for sanity: what the seeds claim must show, and what cannot happen must not
// (updates lost without a lock and none with it; items dropped by V1 and none by V4; ...).
// Bounds are about counts and orders, loose enough for a loaded 2-core machine.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

namespace {

struct LabRun {
  int status = -1;
  std::string output;
  std::filesystem::path folder;
  std::map<std::string, double> facts;
  double operator[](const std::string& name) const {
    const auto it = facts.find(name);
    if (it == facts.end()) ADD_FAILURE() << "no fact " << name << " in results.tsv";
    return it == facts.end() ? -1 : it->second;
  }
};

LabRun run_lab(const std::string& experiment) {
  LabRun run;
  run.folder = std::filesystem::temp_directory_path() /
               ("pyconc-lab-test-" + experiment + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(run.folder);
  const std::string command = std::string(PYCONC_LAB) + " " + experiment + " --quick --out '" +
                              run.folder.string() + "' 2>&1";
  FILE* lab = ::popen(command.c_str(), "r");
  char buffer[4096];
  for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, lab)) > 0;) run.output.append(buffer, n);
  const int status = ::pclose(lab);
  run.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream results(run.folder / "results.tsv");
  std::string name;
  double value;
  std::getline(results, name);  // the header
  while (results >> name >> value) run.facts[name] = value;
  return run;
}

// What every experiment owes its reader: it ran, printed, and left a report with charts.
void expect_report(const LabRun& run, const std::string& experiment, int charts) {
  ASSERT_EQ(run.status, 0) << run.output;
  EXPECT_NE(run.output.find("== " + experiment + " =="), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("report: "), std::string::npos) << run.output;
  std::ifstream report(run.folder / "report.md");
  const std::string text((std::istreambuf_iterator<char>(report)), {});
  EXPECT_NE(text.find("## " + experiment), std::string::npos);
  EXPECT_NE(text.find("|---|"), std::string::npos) << "no table in the report";
  int svgs = 0;
  for (const auto& entry : std::filesystem::directory_iterator(run.folder))
    if (entry.path().extension() == ".svg") {
      ++svgs;
      EXPECT_NE(text.find(entry.path().filename().string()), std::string::npos)
          << "the report does not show " << entry.path();
      std::ifstream svg(entry.path());
      const std::string drawing((std::istreambuf_iterator<char>(svg)), {});
      EXPECT_NE(drawing.find("<svg"), std::string::npos);
    }
  EXPECT_EQ(svgs, charts) << "charts are drawn by gnuplot (Debian's gnuplot-nox)";
  std::filesystem::remove_all(run.folder);
}

TEST(Lab, Ctxswitch) {
  const auto run = run_lab("ctxswitch");
  for (const auto& [name, value] : run.facts)
    if (name.size() > 3 && name.compare(name.size() - 3, 3, ".us") == 0) EXPECT_GT(value, 0) << name;
  EXPECT_GT(run["ctxswitch.threads.same.4k.us"], 0);
  EXPECT_GT(run["ctxswitch.processes.same.16384k.us"], 0);
  std::ifstream cpuinfo("/proc/cpuinfo");
  const std::string flags((std::istreambuf_iterator<char>(cpuinfo)), {});
  EXPECT_EQ(run["ctxswitch.pcid"], flags.find(" pcid") != std::string::npos ? 1 : 0);
  expect_report(run, "ctxswitch", 1);
}

TEST(Lab, Gil) {
  const auto run = run_lab("gil");
  // Under one GIL, CPU-bound threads keep at most one core busy (the speed-up itself is
  // blurred on a loaded machine: the sequential run it divides is slowed too).
  EXPECT_LT(run["gil.cpu.cores.gil.2"], 1.2);
  EXPECT_LT(run["gil.cpu.cores.gil.4"], 1.2);
  // Waits with the GIL released overlap: 16 reads of 10 ms on 8 threads.
  EXPECT_GT(run["gil.io.speedup.8"], 3);
  // The convoy: a forced drop needs a whole switch interval (5 ms) of waiting first.
  EXPECT_GE(run["gil.convoy.median_ms.cpu"], 4.5);
  EXPECT_LT(run["gil.convoy.median_ms.alone"], run["gil.convoy.median_ms.cpu"]);
  expect_report(run, "gil", 2);
}

TEST(Lab, Race) {
  const auto run = run_lab("race");
  EXPECT_GT(run["race.lost.unlocked"], 0);
  EXPECT_GT(run["race.lost.gil"], 0) << "the GIL does not make += atomic";
  EXPECT_EQ(run["race.lost.lock"], 0);
  EXPECT_EQ(run["race.lost.atomic"], 0);
  EXPECT_GT(run["race.bank.overdrawn.unsafe"], 0);
  EXPECT_EQ(run["race.bank.overdrawn.locked"], 0);
  expect_report(run, "race", 1);
}

TEST(Lab, Prodcons) {
  const auto run = run_lab("prodcons");
  EXPECT_GT(run["prodcons.v1.dropped"], 0);
  EXPECT_EQ(run["prodcons.v1.delivered"] + run["prodcons.v1.dropped"], run["prodcons.v1.produced"]);
  EXPECT_GT(run["prodcons.v2.lock_wait_ms"], 0) << "sleeping with the lock stalls the others";
  EXPECT_EQ(run["prodcons.v2.delivered"] + run["prodcons.v2.gave_up"], run["prodcons.v2.produced"]);
  for (const char* stage : {"v3", "v4", "v5"}) {
    const std::string key = std::string("prodcons.") + stage;
    EXPECT_EQ(run[key + ".delivered"], run[key + ".produced"]) << stage;
    EXPECT_EQ(run[key + ".dropped"], 0) << stage;
  }
  EXPECT_EQ(run["prodcons.v4.wrong_side"], 0) << "each condition has one side only";
  EXPECT_EQ(run["prodcons.v4.stalls"], 0);
  expect_report(run, "prodcons", 1);
}

TEST(Lab, Fanout) {
  const auto run = run_lab("fanout");
  EXPECT_NEAR(run["fanout.speedup.sequential"], 1, 1e-9);
  EXPECT_GT(run["fanout.speedup.threads"], 3);
  EXPECT_GT(run["fanout.speedup.asyncio"], 3);
  EXPECT_GT(run["fanout.speedup.processes"], 1.5);
  expect_report(run, "fanout", 1);
}

TEST(Lab, Mass) {
  const auto run = run_lab("mass");
  EXPECT_EQ(run["mass.coroutines.10000.started"], 10000);
  EXPECT_EQ(run["mass.threads.10000.started"], 10000) << run.output;
  EXPECT_LT(run["mass.coroutines.10000.kib_per_wait"], run["mass.threads.10000.kib_per_wait"]);
  expect_report(run, "mass", 1);
}

TEST(Lab, Wsgi) {
  const auto run = run_lab("wsgi");
  for (const char* shape : {"1x1", "1x4", "2x4"})
    EXPECT_EQ(run[std::string("wsgi.capacity.") + shape + ".failed"], 0) << shape;
  EXPECT_GT(run["wsgi.capacity.1x1.of_ideal"], 0.5);
  EXPECT_GT(run["wsgi.capacity.2x4.per_second"], 3 * run["wsgi.capacity.1x1.per_second"]);
  const double clients = run["wsgi.overflow.clients"];
  EXPECT_EQ(run["wsgi.overflow.backlog2048.completed"], clients);
  EXPECT_EQ(run["wsgi.overflow.backlog2048.slow_connects"], 0) << "the queue held them all";
  EXPECT_GT(run["wsgi.overflow.backlog4.slow_connects"], 0) << "SYNs dropped and retried";
  EXPECT_EQ(run["wsgi.overflow.backlog4.completed"] + run["wsgi.overflow.backlog4.no_connection"] +
                run["wsgi.overflow.backlog4.no_reply"],
            clients);
  expect_report(run, "wsgi", 1);
}

TEST(Lab, MisuseIsACleanError) {
  const auto run = run_lab("no-such-experiment");
  EXPECT_NE(run.status, 0);
  EXPECT_NE(run.output.find("no-such-experiment"), std::string::npos) << run.output;
}

}  // namespace
