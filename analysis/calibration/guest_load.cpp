/* pvsim: guest load per traced run (see guest_load.hpp). */
#include "analysis/calibration/guest_load.hpp"

#include "analysis/calibration/validation.hpp"
#include "sim/input_error.hpp"

#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>

namespace fs = std::filesystem;

namespace pvsim::validation {

namespace {

/** One CSV line's fields (double quotes around a field, "" inside one). */
std::vector<std::string> csv_fields(const std::string& line)
{
  std::vector<std::string> out(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted) {
      if (c == '"' and i + 1 < line.size() and line[i + 1] == '"')
        out.back() += line[++i];
      else if (c == '"')
        quoted = false;
      else
        out.back() += c;
    } else if (c == '"')
      quoted = true;
    else if (c == ',')
      out.emplace_back();
    else if (c != '\r')
      out.back() += c;
  }
  return out;
}

void read_summary(const fs::path& csv, std::map<std::string, double>& out)
{
  std::ifstream in(csv);
  std::string line;
  if (not std::getline(in, line))
    return;
  auto head           = csv_fields(line);
  std::size_t run_col = head.size(), load_col = head.size();
  for (std::size_t i = 0; i < head.size(); ++i) {
    if (head[i] == "run")
      run_col = i;
    if (head[i] == "foreign_cpus")
      load_col = i;
  }
  if (run_col == head.size() or load_col == head.size())
    return; // another kind of summary
  for (int n = 2; std::getline(in, line); ++n) {
    if (line.empty())
      continue;
    auto f = csv_fields(line);
    if (f.size() <= std::max(run_col, load_col) or f[load_col].empty())
      continue;
    const std::string& v = f[load_col];
    double x             = 0;
    auto [end, ec]       = std::from_chars(v.data(), v.data() + v.size(), x);
    if (ec != std::errc() or end != v.data() + v.size() or not std::isfinite(x) or x < 0)
      throw InputError(csv.string(), "line " + std::to_string(n) + ", column foreign_cpus",
                       "expected a non-negative number of CPUs, got '" + v + "'");
    out[f[run_col] + ".json"] = x;
  }
}

json medians(const json& runs)
{
  json m = json::object();
  for (const char* k : {"iops", "clat_mean_us", "clat_p99_us"}) {
    std::vector<double> v;
    for (const auto& r : runs)
      v.push_back(r["error_pct"][k].get<double>());
    m[k] = median_abs(v);
  }
  return {{"runs", runs.size()}, {"median_abs_error_pct", m}};
}

} // namespace

std::map<std::string, double> guest_load_of(const std::vector<std::string>& trace_files)
{
  std::map<std::string, double> out;
  std::set<fs::path> seen;
  for (const auto& t : trace_files) {
    std::error_code ec;
    fs::path csv = fs::absolute(t, ec).parent_path().parent_path() / "summary.csv";
    if (not seen.insert(csv).second or not fs::is_regular_file(csv, ec))
      continue;
    read_summary(csv, out);
  }
  return out;
}

void add_guest_load(json& full, const std::map<std::string, double>& load)
{
  json quiet = json::array(), loaded = json::array();
  int unknown = 0;
  for (auto& r : full["runs"]) {
    auto it = load.find(r["trace"].get<std::string>());
    if (it == load.end()) {
      ++unknown;
      continue;
    }
    r["foreign_cpus"] = it->second;
    (it->second >= loaded_above_cpus ? loaded : quiet).push_back(r);
  }
  if (quiet.empty() and loaded.empty())
    return;
  full["summary"]["by_guest_load"] = {{"loaded_above_cpus", loaded_above_cpus},
                                      {"quiet", medians(quiet)},
                                      {"loaded", medians(loaded)},
                                      {"unknown", unknown}};
}

} // namespace pvsim::validation
