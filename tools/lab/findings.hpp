// What one pyconc-lab experiment found: tables, charts, notes, and named facts.
//
// Tables print on the terminal as they are and go into the Markdown report; charts become
// SVG files drawn by gnuplot; facts (one number under a dotted name, "race.lost.unlocked")
// go to results.tsv, which the test suite reads to check that each experiment's numbers
// make sense.
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace pyconc::lab {

struct Options {
  bool quick = false;
  std::filesystem::path out;  // the report's folder
};

class Table {
 public:
  Table(std::string title, std::vector<std::string> columns);
  void add(std::vector<std::string> row);
  std::string text() const;      // aligned columns, for the terminal
  std::string markdown() const;  // a Markdown table under a bold title

 private:
  std::string title_;
  std::vector<std::string> columns_;
  std::vector<std::vector<std::string>> rows_;
};

struct Series {
  std::string name;
  std::vector<std::pair<double, double>> points;
};

struct Chart {
  Chart(std::string name_, std::string title_, std::string xlabel_, std::string ylabel_)
      : name(std::move(name_)), title(std::move(title_)), xlabel(std::move(xlabel_)),
        ylabel(std::move(ylabel_)) {}
  std::string name;  // file stem: <experiment>_<name>.svg
  std::string title;
  std::string xlabel;
  std::string ylabel;
  bool logx = false;
  bool logy = false;
  bool bars = false;  // a bar per point (x is the bar's index), labelled by xtics
  std::vector<std::string> xtics;  // for bars
  std::vector<Series> series;
};

class Findings {
 public:
  explicit Findings(std::string experiment) : experiment_(std::move(experiment)) {}
  const std::string& experiment() const { return experiment_; }

  void table(Table table);
  void chart(Chart chart) { charts_.push_back(std::move(chart)); }
  void note(std::string text);
  void fact(const std::string& name, double value);
  double value(const std::string& name) const;  // a fact recorded earlier (0 if none)

  const std::vector<std::string>& markdown() const { return markdown_; }
  const std::vector<Chart>& charts() const { return charts_; }
  const std::vector<std::pair<std::string, double>>& facts() const { return facts_; }

 private:
  std::string experiment_;
  std::vector<std::string> markdown_;  // the report's blocks, in order
  std::vector<Chart> charts_;
  std::vector<std::pair<std::string, double>> facts_;
};

// The p-quantile (0..1) of `values`, nearest rank; 0 for none.
double percentile(std::vector<double> values, double p);

// "12.3" with `digits` after the point; "1.23e+06"-free, for tables.
std::string fixed(double value, int digits = 1);

}  // namespace pyconc::lab
