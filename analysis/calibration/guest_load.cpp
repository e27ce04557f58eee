/* pvsim: guest load per traced run (see guest_load.hpp). */
#include "analysis/calibration/guest_load.hpp"

#include "analysis/calibration/validation.hpp"
#include "analysis/readers/csv_record.hpp"
#include "sim/input_error.hpp"

#include <charconv>
#include <cmath>
#include <deque>
#include <filesystem>
#include <fstream>
#include <set>
#include <string_view>

namespace fs = std::filesystem;

namespace pvsim::validation {

namespace {

void read_summary(const fs::path& csv, std::map<std::string, double>& out)
{
  std::ifstream in(csv);
  std::string line;
  std::vector<std::string_view> f;
  std::deque<std::string> storage;
  auto next_record = [&]() {
    if (not std::getline(in, line))
      return false;
    if (not line.empty() and line.back() == '\r')
      line.pop_back();
    return true;
  };
  if (not next_record())
    return;
  readers::split_csv(line, f, storage); // the header
  std::size_t run_col = f.size(), load_col = f.size();
  for (std::size_t i = 0; i < f.size(); ++i) {
    if (f[i] == "run")
      run_col = i;
    if (f[i] == "foreign_cpus")
      load_col = i;
  }
  if (run_col == f.size() or load_col == f.size())
    return; // another kind of summary
  for (int n = 2; next_record(); ++n) {
    if (line.empty())
      continue;
    readers::split_csv(line, f, storage);
    if (f.size() <= std::max(run_col, load_col) or f[load_col].empty())
      continue;
    std::string_view v   = f[load_col];
    double x             = 0;
    auto [end, ec]       = std::from_chars(v.data(), v.data() + v.size(), x);
    if (ec != std::errc() or end != v.data() + v.size() or not std::isfinite(x) or x < 0)
      throw InputError(csv.string(), "line " + std::to_string(n) + ", column foreign_cpus",
                       "expected a non-negative number of CPUs, got '" + std::string(v) + "'");
    out[std::string(f[run_col]) + ".json"] = x;
  }
}

json medians(const json& runs)
{
  return {{"runs", runs.size()},
          {"median_abs_error_pct", median_abs_errors(runs, {"iops", "clat_mean_us", "clat_p99_us"})}};
}

} // namespace

std::optional<double> guest_load_for(const std::map<std::string, double>& load, const std::string& trace_file)
{
  if (auto it = load.find(std::filesystem::path(trace_file).filename().string()); it != load.end())
    return it->second;
  return std::nullopt;
}

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
