#include "analysis/regress/regress.hpp"

#include "analysis/regress/metrics.hpp"
#include "analysis/runner/process_runs.hpp"
#include "sim/input_error.hpp"
#include "sim/results.hpp"
#include "sim/version.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <unistd.h>

namespace pvsim::regress {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

struct Series {
  std::vector<double> values; // one per seed, in seed order
  bool higher_is_better = true;
};
using SuiteValues = std::map<std::string, std::map<std::string, Series>>; // scenario -> metric -> series

std::vector<fs::path> suite_scenarios(const Options& opt)
{
  if (not fs::is_directory(opt.suite_dir))
    throw InputError(opt.suite_dir, "", "no such suite directory (expected a folder of scenario files)");
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(opt.suite_dir))
    if (e.path().extension() == ".json" and e.path().filename() != "baseline.json")
      out.push_back(e.path());
  std::sort(out.begin(), out.end());
  if (out.empty())
    throw InputError(opt.suite_dir, "", "no scenario (*.json other than baseline.json) in the suite");
  return out;
}

std::string baseline_file(const Options& opt)
{
  return opt.baseline.empty() ? (fs::path(opt.suite_dir) / "baseline.json").string() : opt.baseline;
}

/** Runs every scenario once per seed; a failed run is named in `failures`. */
SuiteValues run_suite(const Options& opt, const std::vector<fs::path>& scenarios, std::vector<std::string>& failures)
{
  std::string tmpl = (fs::temp_directory_path() / "pvsim-regress-XXXXXX").string();
  if (not mkdtemp(tmpl.data()))
    throw std::runtime_error("cannot create a temporary directory");
  fs::path tmp(tmpl);
  std::vector<std::vector<std::string>> args;
  std::vector<std::pair<std::string, fs::path>> outputs;
  std::vector<std::string> logs;
  for (const auto& s : scenarios)
    for (int k = 0; k < opt.repeats; ++k) {
      std::string seed = std::to_string(opt.first_seed + static_cast<std::uint64_t>(k));
      fs::path out     = tmp / (s.stem().string() + "-" + seed);
      args.push_back({"run", s.string(), "-o", out.string(), "-q", "--seed", seed});
      outputs.emplace_back(s.stem().string(), out);
      logs.push_back((tmp / (s.stem().string() + "-" + seed + ".log")).string());
    }
  ProcessRuns how{opt.pvsim_exe, opt.parallel, "regress", not opt.quiet and ::isatty(STDERR_FILENO)};
  auto status = run_processes(how, args, logs);
  SuiteValues values;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const auto& [name, out] = outputs[i];
    if (status[i] != 0) {
      failures.push_back(name + " (seed " + args[i].back() + "): pvsim run exited " + std::to_string(status[i]) + ": " +
                         first_error_line(logs[i]));
      continue;
    }
    std::ifstream in(out / "results.json");
    for (const auto& m : metrics_of(json::parse(in))) {
      auto& s = values[name][m.name];
      s.values.push_back(m.value);
      s.higher_is_better = m.higher_is_better;
    }
  }
  std::error_code ec;
  fs::remove_all(tmp, ec);
  return values;
}

json to_json(const SuiteValues& v)
{
  json out = json::object();
  for (const auto& [scenario, metrics] : v)
    for (const auto& [name, s] : metrics)
      out[scenario][name] = {{"values", s.values}, {"higher_is_better", s.higher_is_better}};
  return out;
}

SuiteValues read_baseline(const std::string& file, const Options& opt)
{
  std::ifstream in(file);
  if (not in)
    throw InputError(file, "", "no baseline: write one with `pvsim regress --update` (on the code you trust)");
  json b;
  try {
    b = json::parse(in);
  } catch (const json::exception& e) {
    throw InputError(file, "", std::string("not JSON: ") + e.what());
  }
  if (b.value("format", "") != "pvsim-regress-baseline")
    throw InputError(file, "/format", "expected \"pvsim-regress-baseline\"");
  if (b.value("repeats", 0) != opt.repeats)
    throw InputError(file, "/repeats",
                     "the baseline has " + std::to_string(b.value("repeats", 0)) + " seeds per scenario, this run " +
                         std::to_string(opt.repeats) + ": use --repeats " + std::to_string(b.value("repeats", 0)));
  SuiteValues out;
  for (const auto& [scenario, metrics] : b.at("scenarios").items())
    for (const auto& [name, s] : metrics.items())
      out[scenario][name] = {s.at("values").get<std::vector<double>>(), s.at("higher_is_better").get<bool>()};
  return out;
}

std::string range_text(const std::vector<double>& v)
{
  auto [lo, hi] = std::minmax_element(v.begin(), v.end());
  char buf[96];
  std::snprintf(buf, sizeof buf, "%.4g [%.4g, %.4g]", median(v), *lo, *hi);
  return buf;
}

} // namespace

int regress_command(const Options& opt)
{
  if (opt.repeats < 2 or opt.repeats > 50)
    throw InputError("", "--repeats", "expected 2 to 50 seeds per scenario, got " + std::to_string(opt.repeats));
  auto scenarios = suite_scenarios(opt);
  std::vector<std::string> failures;
  std::string bfile = baseline_file(opt);
  SuiteValues baseline;
  if (not opt.update)
    baseline = read_baseline(bfile, opt); // before running: a missing baseline is an input error, at once
  SuiteValues now = run_suite(opt, scenarios, failures);

  if (opt.update) {
    if (not failures.empty()) {
      for (const auto& f : failures)
        std::cerr << "pvsim regress: failed: " << f << "\n";
      std::cerr << "pvsim regress: baseline not written\n";
      return 1;
    }
    json b = {{"format", "pvsim-regress-baseline"}, {"format_version", 1},
              {"pvsim_version", version},           {"repeats", opt.repeats},
              {"first_seed", opt.first_seed},       {"scenarios", to_json(now)}};
    write_file_atomically(bfile, b.dump(1) + "\n");
    if (not opt.quiet)
      std::cout << "baseline: " << bfile << " (" << scenarios.size() << " scenarios x " << opt.repeats << " seeds)\n";
    return 0;
  }

  // First every metric's test, then Holm's correction over all of them, then the verdicts.
  struct Row {
    std::string scenario, metric;
    const Series* baseline;
    const Series* now; // null: the metric is gone
    Comparison c;
  };
  std::vector<Row> compared;
  for (const auto& [scenario, metrics] : baseline)
    for (const auto& [name, b] : metrics) {
      auto sit         = now.find(scenario);
      const Series* ns = (sit != now.end() and sit->second.count(name)) ? &sit->second.at(name) : nullptr;
      compared.push_back({scenario, name, &b, ns, ns ? compare(b.values, ns->values, opt.test) : Comparison{}});
    }
  std::vector<double> p;
  for (const auto& r : compared)
    p.push_back(r.now ? r.c.p_value : 1.0);
  auto rejected = holm_rejections(p, opt.test.alpha);

  json rows     = json::array();
  int regressed = 0, improved = 0, unchanged = 0, gone = 0;
  if (not opt.quiet)
    std::printf("%-28s %-44s %-30s %-30s %8s %8s  %s\n", "scenario", "metric", "baseline median [range]",
                "now median [range]", "change", "p", "verdict");
  for (std::size_t i = 0; i < compared.size(); ++i) {
    const Row& r = compared[i];
    json row     = {{"scenario", r.scenario}, {"metric", r.metric}, {"baseline", r.baseline->values}};
    if (not r.now) {
      row["verdict"] = "gone";
      ++gone;
      rows.push_back(row);
      if (not opt.quiet)
        std::printf("%-28s %-44s %-30s %-30s %8s %8s  %s\n", r.scenario.c_str(), r.metric.c_str(),
                    range_text(r.baseline->values).c_str(), "-", "", "", "gone");
      continue;
    }
    Verdict v              = verdict_of(r.c, rejected[i], r.baseline->higher_is_better);
    row["now"]             = r.now->values;
    row["median_baseline"] = r.c.median_baseline;
    row["median_now"]      = r.c.median_now;
    row["change"]          = r.c.change;
    row["p_value"]         = r.c.p_value;
    row["holm_rejected"]   = static_cast<bool>(rejected[i]);
    row["verdict"]         = verdict_name(v);
    rows.push_back(row);
    (v == Verdict::regressed ? regressed : v == Verdict::improved ? improved : unchanged)++;
    if (not opt.quiet and (opt.all or v != Verdict::unchanged))
      std::printf("%-28s %-44s %-30s %-30s %+7.2f%% %8.2g  %s\n", r.scenario.c_str(), r.metric.c_str(),
                  range_text(r.baseline->values).c_str(), range_text(r.now->values).c_str(), r.c.change * 100,
                  r.c.p_value, verdict_name(v));
  }
  int added = 0;
  for (const auto& [scenario, metrics] : now)
    for (const auto& [name, n] : metrics)
      if (not baseline.count(scenario) or not baseline.at(scenario).count(name))
        ++added;

  json report = {{"format", "pvsim-regress-report"},
                 {"test",
                  {{"name", "Mann-Whitney U, exact, two-sided, Holm-corrected over every metric (family-wise alpha); "
                            "flagged when rejected, the current median is outside the baseline's range and the "
                            "medians differ by at least min_change"},
                   {"alpha", opt.test.alpha},
                   {"min_change", opt.test.min_change},
                   {"repeats", opt.repeats},
                   {"first_seed", opt.first_seed}}},
                 {"summary",
                  {{"regressed", regressed},
                   {"improved", improved},
                   {"unchanged", unchanged},
                   {"gone", gone},
                   {"new", added},
                   {"failed_runs", failures}}},
                 {"metrics", rows}};
  if (not opt.json_out.empty())
    write_file_atomically(opt.json_out, report.dump(1) + "\n");
  for (const auto& f : failures)
    std::cerr << "pvsim regress: failed: " << f << "\n";
  if (not opt.quiet)
    std::printf("%zu scenarios x %d seeds: %d regressed, %d improved, %d unchanged, %d gone, %d new metrics "
                "(Mann-Whitney exact two-sided, Holm family-wise alpha %.3g, outside the baseline's range, change >= "
                "%.3g%%)\n",
                scenarios.size(), opt.repeats, regressed, improved, unchanged, gone, added, opt.test.alpha,
                opt.test.min_change * 100);
  return (regressed > 0 or gone > 0 or not failures.empty()) ? 1 : 0;
}

} // namespace pvsim::regress
