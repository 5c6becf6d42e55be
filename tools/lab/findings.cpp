#include "findings.hpp"

#include <algorithm>
#include <cstdio>
#include <iostream>

namespace pyconc::lab {

Table::Table(std::string title, std::vector<std::string> columns)
    : title_(std::move(title)), columns_(std::move(columns)) {}

void Table::add(std::vector<std::string> row) {
  row.resize(columns_.size());
  rows_.push_back(std::move(row));
}

std::string Table::text() const {
  std::vector<std::size_t> width(columns_.size());
  for (std::size_t c = 0; c < columns_.size(); ++c) {
    width[c] = columns_[c].size();
    for (const auto& row : rows_) width[c] = std::max(width[c], row[c].size());
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string out = " ";
    for (std::size_t c = 0; c < cells.size(); ++c) {
      const std::string pad(width[c] - cells[c].size(), ' ');
      out += c == 0 ? cells[c] + pad : pad + cells[c];  // numbers line up on the right
      out += "  ";
    }
    return out + "\n";
  };
  std::string out = title_ + "\n" + line(columns_);
  std::size_t total = 0;
  for (auto w : width) total += w + 2;
  out += ' ';  // three appends: GCC 12's -Wrestrict misfires on " " + temporary
  out.append(total, '-');
  out += '\n';
  for (const auto& row : rows_) out += line(row);
  return out;
}

std::string Table::markdown() const {
  auto line = [](const std::vector<std::string>& cells) {
    std::string out = "|";
    for (const auto& cell : cells) out += " " + cell + " |";
    return out + "\n";
  };
  std::string out = "**" + title_ + "**\n\n" + line(columns_) + "|";
  for (std::size_t c = 0; c < columns_.size(); ++c) out += c == 0 ? "---|" : "---:|";
  out += "\n";
  for (const auto& row : rows_) out += line(row);
  return out;
}

void Findings::table(Table table) {
  std::cout << "\n" << table.text() << std::flush;
  markdown_.push_back(table.markdown());
}

void Findings::note(std::string text) {
  std::cout << "\n" << text << "\n" << std::flush;
  markdown_.push_back(std::move(text) + "\n");
}

void Findings::fact(const std::string& name, double value) {
  facts_.emplace_back(experiment_ + "." + name, value);
}

double Findings::value(const std::string& name) const {
  for (const auto& [fact, value] : facts_)
    if (fact == experiment_ + "." + name) return value;
  return 0;
}

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  return values[std::min(values.size() - 1, std::size_t(p * (values.size() - 1) + 0.5))];
}

std::string fixed(double value, int digits) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", digits, value);
  return buffer;
}

}  // namespace pyconc::lab
