/* pvsim: the report.md table of `pvsim validate` (see validation.hpp). */
#include "analysis/calibration/validation_table.hpp"

#include "analysis/calibration/validation.hpp"
#include "sim/units.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <tuple>

namespace pvsim::validation {

namespace {

void bundle_markdown(std::ostringstream& o, const json& full);
void interrupts_markdown(std::ostringstream& o, const json& full);

std::string net_markdown(const json& full)
{
  std::ostringstream o;
  const json& fit = full["fit"];
  o << "# pvsim validation (network lab)\n\n"
    << full["device"].get<std::string>() << ". Host speed_factor " << fit["speed_factor"] << ": "
    << fit["how"].get<std::string>() << ".\n\n";
  o << "| trace | streams | Gbit/s meas | Gbit/s pvsim | err % |\n|---|---|---|---|---|\n";
  for (const auto& r : full["net_runs"])
    o << "| " << r["trace"].get<std::string>() << (r["fitted_on"].get<bool>() ? " (fit)" : "") << " | " << r["streams"]
      << " | " << format_fixed(r["measured"]["gbps"].get<double>(), 3) << " | "
      << format_fixed(r["predicted"]["gbps"].get<double>(), 3) << " | "
      << format_fixed(r["error_pct"]["gbps"].get<double>()) << " |\n";
  o << "\nMedian |error| over the predicted runs: "
    << format_fixed(full["summary"]["median_abs_error_pct"]["gbps"].get<double>()) << " %\n";
  bundle_markdown(o, full);
  return o.str();
}

std::string noise_cell(const json& r)
{
  if (not r.contains("noise") or r["noise"].is_null())
    return "-";
  return format_fixed(r["noise"]["iops_cv_pct"].get<double>()) +
         (r["noise"]["source"].get<std::string>() == "configuration"
              ? ""
              : " (" + r["noise"]["source"].get<std::string>() + ")");
}

std::string outside_cell(const json& r)
{
  if (not r.contains("outside_noise") or r["outside_noise"].is_null())
    return "-";
  return r["outside_noise"].get<bool>() ? "**yes**" : "no";
}

std::string interval_cell(const json& r, const char* k, int prec)
{
  if (not r.contains("interval"))
    return "-";
  const json& i = r["interval"];
  return "[" + format_fixed(i[k][0].get<double>(), prec) + ", " + format_fixed(i[k][1].get<double>(), prec) + "]" +
         (i["inside"][k].get<bool>() ? "" : " out");
}

void side_by_side_markdown(std::ostringstream& o, const json& s)
{
  const json& sb = s["side_by_side"];
  o << "\n## Side by side on the same " << sb["runs"] << " runs\n\n";
  if (not sb["left_out"].empty()) {
    o << "Left out (no baseline: no calibration run of their direction):";
    for (const auto& t : sb["left_out"])
      o << " " << t.get<std::string>();
    o << ".\n\n";
  }
  o << "| model | median IOPS err % | median clat mean err % | median p99 err % | worst IOPS err % | worst run |\n"
    << "|---|---|---|---|---|---|\n";
  for (const char* m : {"pvsim", "bound_interpolation", "mva"}) {
    if (not sb["models"].contains(m))
      continue;
    const json& v  = sb["models"][m];
    const json& md = v["median_abs_error_pct"];
    o << "| " << m << " | " << format_fixed(md["iops"].get<double>()) << " | "
      << format_fixed(md["clat_mean_us"].get<double>()) << " | "
      << (md.contains("clat_p99_us") ? format_fixed(md["clat_p99_us"].get<double>()) : std::string("-")) << " | "
      << (v["worst_iops"].is_null() ? std::string("-") : format_fixed(v["worst_iops"]["error_pct"].get<double>()))
      << " | " << (v["worst_iops"].is_null() ? std::string("-") : v["worst_iops"]["trace"].get<std::string>())
      << " |\n";
  }
  if (sb.contains("pvsim_beats_bound")) {
    const json& b = sb["pvsim_beats_bound"];
    auto yn       = [](const json& x) { return x.get<bool>() ? "yes" : "**no**"; };
    o << "\npvsim beats the bound formula: median IOPS " << yn(b["iops"]) << ", median clat mean "
      << yn(b["clat_mean_us"]) << ", worst IOPS " << yn(b["worst_iops"]) << ".\n";
  }
}

void noise_markdown(std::ostringstream& o, const json& s)
{
  const json& n  = s["noise"];
  const json& on = s["outside_noise"];
  o << "\n## Noise of repeats\n\nRuns outside noise (|IOPS error| > 2 x the IOPS CV of their configuration, or the "
       "pooled CV): **"
    << on["runs"] << " of " << on["judged"] << "** judged";
  if (on["judged"] != on["of"])
    o << " (" << on["of"].get<int>() - on["judged"].get<int>() << " without any noise estimate)";
  o << ".\n\n| configuration | runs | IOPS CV % | clat mean CV % |\n|---|---|---|---|\n";
  for (const auto& c : n["configurations"])
    o << "| " << c["config"].get<std::string>() << " | " << c["runs"] << " | "
      << format_fixed(c["iops_cv_pct"].get<double>()) << " | " << format_fixed(c["clat_mean_cv_pct"].get<double>())
      << " |\n";
  if (n["pooled"].is_null())
    o << "\nNo configuration has repeats: no noise to judge the errors against.\n";
  else
    o << "| pooled (" << n["pooled"]["configurations"] << " configurations) | " << n["pooled"]["runs"] << " | "
      << format_fixed(n["pooled"]["iops_cv_pct"].get<double>()) << " | "
      << format_fixed(n["pooled"]["clat_mean_cv_pct"].get<double>()) << " |\n";
}

void repeat_floor_markdown(std::ostringstream& o, const json& f)
{
  o << "\n## The repeats' floor\n\nEach of the " << f["runs"]
    << " runs whose configuration was measured more than once, predicted by the mean of its configuration's other "
       "runs: no model, only what another measurement of the same configuration said. An error target below this "
       "floor is met or missed by the host's run-to-run noise.\n\n"
    << "| predictor | median IOPS err % | median clat mean err % | worst IOPS err % | worst run "
       "|\n|---|---|---|---|---|\n";
  for (const char* m : {"repeats", "pvsim"}) {
    const json& v = f["models"][m];
    o << "| " << (std::string(m) == "repeats" ? "the other repeats' mean" : "pvsim") << " | "
      << format_fixed(v["median_abs_error_pct"]["iops"].get<double>()) << " | "
      << format_fixed(v["median_abs_error_pct"]["clat_mean_us"].get<double>()) << " | "
      << format_fixed(v["worst_iops"]["error_pct"].get<double>()) << " | "
      << v["worst_iops"]["trace"].get<std::string>() << " |\n";
  }
  auto yn = [](const json& x) { return x.get<bool>() ? "yes" : "**no**"; };
  o << "\npvsim within the floor (its median |error| no larger): IOPS " << yn(f["pvsim_within_floor"]["iops"])
    << ", clat mean " << yn(f["pvsim_within_floor"]["clat_mean_us"]) << ".\n";
}

void by_configuration_markdown(std::ostringstream& o, const json& c)
{
  o << "\n## Against each configuration's mean\n\nThe " << c["runs"]
    << " runs' measurements and predictions averaged over "
    << "each of their " << c["configurations"]
    << " configurations, and scored there: the repeats' noise taken out, each configuration counted once.\n\n"
    << "| model | median IOPS err % | median clat mean err % | worst IOPS err % | worst configuration "
       "|\n|---|---|---|---|---|\n";
  for (const char* m : {"pvsim", "bound_interpolation", "mva"}) {
    if (not c["models"].contains(m))
      continue;
    const json& v = c["models"][m];
    o << "| " << m << " | " << format_fixed(v["median_abs_error_pct"]["iops"].get<double>()) << " | "
      << format_fixed(v["median_abs_error_pct"]["clat_mean_us"].get<double>()) << " | "
      << format_fixed(v["worst_iops"]["error_pct"].get<double>()) << " | "
      << v["worst_iops"]["config"].get<std::string>() << " |\n";
  }
  if (c.contains("pvsim_beats_bound")) {
    auto yn       = [](const json& x) { return x.get<bool>() ? "yes" : "**no**"; };
    const json& b = c["pvsim_beats_bound"];
    o << "\npvsim beats the bound formula by configuration: median IOPS " << yn(b["iops"]) << ", median clat mean "
      << yn(b["clat_mean_us"]) << ", worst IOPS " << yn(b["worst_iops"]) << ".\n";
  }
}

void folds_markdown(std::ostringstream& o, const json& full)
{
  if (not full.contains("folds"))
    return;
  o << "\n## Folds (which runs calibrated which predictions)\n";
  for (const auto& f : full["folds"]) {
    o << "\n- **" << f["name"].get<std::string>() << "**: held out " << f["held_out"].size() << " (";
    std::string sep;
    for (const auto& h : f["held_out"]) {
      o << sep << h.get<std::string>();
      sep = ", ";
    }
    o << "); calibrated on " << f["calibration"].size() << " (";
    sep.clear();
    for (const auto& c : f["calibration"]) {
      o << sep << c.get<std::string>();
      sep = ", ";
    }
    o << ")";
    if (f.contains("bootstrap"))
      o << "; " << f["bootstrap"]["resamples"] << " bootstrap resamples (" << f["bootstrap"]["redrawn"] << " redrawn)";
    for (const auto& n : f.value("notes", json::array()))
      o << "; **" << n.get<std::string>() << "**";
    if (not f["not_fitted"].empty())
      o << "; not fitted: " << f["not_fitted"].size() << " item(s)";
  }
  o << "\n";
}

} // namespace

std::string markdown(const json& full)
{
  if (full.contains("net_runs"))
    return net_markdown(full);
  std::ostringstream o;
  std::string mode = full.value("mode", std::string("in-sample"));
  bool leave_out   = full.contains("folds");
  bool intervals =
      std::any_of(full["runs"].begin(), full["runs"].end(), [](const json& r) { return r.contains("interval"); });
  o << "# pvsim validation (" << mode << ")\n\n";
  if (leave_out)
    o << "Each fold calibrated on its calibration runs only and predicted its held-out runs (see Folds).";
  else
    o << "Device file: `" << full["device"].get<std::string>() << "`.";
  if (mode == "in-sample")
    o << " In-sample: the runs scored are the runs fitted.";
  o << " Errors are (predicted - measured) / measured. Noise: the IOPS coefficient of variation of the run's "
       "configuration over its repeats. Baselines: MVA with c servers, bound interpolation.\n\n";
  o << "| trace |" << (leave_out ? " fold |" : "")
    << " rw | engine | qd | jobs | IOPS meas | IOPS pvsim | err % | noise % | outside | MVA err % | BI err % |"
    << (intervals ? " IOPS 10-90 % |" : "") << " clat mean meas us | pvsim us | err % | MVA err % | BI err % |"
    << (intervals ? " clat mean 10-90 % |" : "") << " p50 err % | p99 meas us | p99 pvsim us | p99 err % |\n|";
  int cols = 19 + (leave_out ? 1 : 0) + (intervals ? 2 : 0);
  for (int i = 0; i < cols; ++i)
    o << "---|";
  o << "\n";
  auto berr = [](const json& r, const char* b, const char* k) {
    return r["baselines"].contains(b) ? format_fixed(r["baselines"][b]["error_pct"][k].get<double>())
                                      : std::string("-");
  };
  for (const auto& r : full["runs"]) {
    const json &m = r["measured"], &p = r["predicted"], &e = r["error_pct"];
    o << "| " << r["trace"].get<std::string>() << " | ";
    if (leave_out)
      o << r["fold"].get<std::string>() << " | ";
    o << r["rw"].get<std::string>() << " | " << r["engine"].get<std::string>() << " | " << r["iodepth"] << " | "
      << r["numjobs"] << " | " << format_fixed(m["iops"].get<double>(), 0) << " | "
      << format_fixed(p["iops"].get<double>(), 0) << " | " << format_fixed(e["iops"].get<double>()) << " | "
      << noise_cell(r) << " | " << outside_cell(r) << " | " << berr(r, "mva", "iops") << " | "
      << berr(r, "bound_interpolation", "iops") << " | ";
    if (intervals)
      o << interval_cell(r, "iops", 0) << " | ";
    o << format_fixed(m["clat_mean_us"].get<double>()) << " | " << format_fixed(p["clat_mean_us"].get<double>())
      << " | " << format_fixed(e["clat_mean_us"].get<double>()) << " | " << berr(r, "mva", "clat_mean_us") << " | "
      << berr(r, "bound_interpolation", "clat_mean_us") << " | ";
    if (intervals)
      o << interval_cell(r, "clat_mean_us", 1) << " | ";
    o << format_fixed(e["clat_p50_us"].get<double>()) << " | " << format_fixed(m["clat_p99_us"].get<double>()) << " | "
      << format_fixed(p["clat_p99_us"].get<double>()) << " | " << format_fixed(e["clat_p99_us"].get<double>())
      << " |\n";
  }
  const json& s = full["summary"];
  o << "\n## Median |error| %\n\n| model | IOPS | clat mean | clat p50 | clat p99 |\n|---|---|---|---|---|\n";
  const json& m = s["median_abs_error_pct"];
  o << "| pvsim | " << format_fixed(m["iops"].get<double>()) << " | " << format_fixed(m["clat_mean_us"].get<double>())
    << " | " << format_fixed(m["clat_p50_us"].get<double>()) << " | " << format_fixed(m["clat_p99_us"].get<double>())
    << " |\n";
  if (s.contains("baselines"))
    for (auto& [b, v] : s["baselines"].items())
      o << "| " << b << " | " << format_fixed(v["median_abs_error_pct"].value("iops", 0.0)) << " | "
        << format_fixed(v["median_abs_error_pct"].value("clat_mean_us", 0.0)) << " | - | - |\n";
  if (s.contains("side_by_side"))
    side_by_side_markdown(o, s);
  if (s.contains("noise"))
    noise_markdown(o, s);
  if (s.contains("repeat_floor") and not s["repeat_floor"].is_null())
    repeat_floor_markdown(o, s["repeat_floor"]);
  if (s.contains("by_configuration") and not s["by_configuration"].is_null())
    by_configuration_markdown(o, s["by_configuration"]);
  if (s.contains("by_guest_load")) {
    const json& g = s["by_guest_load"];
    o << "\n## Load of other processes in the guest\n\nThe traces record the CPUs other processes used during each "
         "run (summary.csv `foreign_cpus`); pvsim gives each run that load (guest.vm background_cpus) when the "
         "calibration could fit its waits from quiet and loaded runs, else a quiet guest. Runs at "
      << format_fixed(g["loaded_above_cpus"].get<double>(), 1) << " CPU or more count as loaded (" << g["unknown"]
      << " runs without a record).\n\n| runs | n | median IOPS err % | median clat mean err % | "
         "median p99 err % |\n|---|---|---|---|---|\n";
    for (const char* k : {"quiet", "loaded"}) {
      const json& v  = g[k];
      const json& md = v["median_abs_error_pct"];
      o << "| " << k << " | " << v["runs"] << " | " << format_fixed(md["iops"].get<double>()) << " | "
        << format_fixed(md["clat_mean_us"].get<double>()) << " | " << format_fixed(md["clat_p99_us"].get<double>())
        << " |\n";
    }
  }
  interrupts_markdown(o, full);
  if (s.contains("coverage"))
    o << "\n## Intervals\n\nBootstrap 10th-90th percentile intervals over the recalibrations of each fold: coverage "
         "(share of the "
      << s["coverage"]["runs"]
      << " measurements inside their interval; about 80 % if the intervals held every source of error) IOPS "
      << format_fixed(s["coverage"]["iops"].get<double>() * 100, 0) << " %, clat mean "
      << format_fixed(s["coverage"]["clat_mean_us"].get<double>() * 100, 0)
      << " %. They hold the spread of the fitted parameters (over the calibration runs) and of the simulation seed, "
         "not the run-to-run noise of the measurement predicted (see Noise of repeats) nor the model's own bias.\n";
  folds_markdown(o, full);
  bundle_markdown(o, full);
  return o.str();
}

namespace {

void interrupts_markdown(std::ostringstream& o, const json& full)
{
  std::vector<const json*> runs;
  for (const auto& r : full["runs"])
    if (r.contains("requests_per_interrupt"))
      runs.push_back(&r);
  if (runs.empty())
    return;
  std::sort(runs.begin(), runs.end(), [](const json* a, const json* b) {
    auto key = [](const json* r) {
      return std::make_tuple((*r)["numjobs"].get<int>(), (*r)["iodepth"].get<int>(), (*r)["trace"].get<std::string>());
    };
    return key(a) < key(b);
  });
  o << "\n## Requests per interrupt\n\nHow the device and the driver take turns: the virtqueues' interrupts in the "
       "bundle's /proc/interrupts snapshots around each run against its requests (IOPS x (runtime + ramp_time)), "
       "and fio's completed requests per simulated virtqueue interrupt. The requests in flight when the device "
       "returns each batch whole (a pass ping-pong), fewer when it serves them as they come.\n\n"
       "| trace | in flight | measured | pvsim |\n|---|---|---|---|\n";
  std::vector<double> errors; // error_pct of pvsim against the measurement, per run
  std::size_t worst = 0;
  for (const json* r : runs) {
    const json& q = (*r)["requests_per_interrupt"];
    double m = q["measured"].get<double>(), p = q["predicted"].get<double>();
    o << "| " << (*r)["trace"].get<std::string>() << " | " << (*r)["iodepth"].get<int>() * (*r)["numjobs"].get<int>()
      << " | " << format_fixed(m, 1) << " | " << format_fixed(p, 1) << " |\n";
    errors.push_back(error_pct(p, m));
    if (std::abs(errors.back()) > std::abs(errors[worst]))
      worst = errors.size() - 1;
  }
  o << "\nMedian |pvsim - measured| / measured: " << format_fixed(median_abs(errors), 1) << " % over " << errors.size()
    << " runs; the largest " << format_fixed(std::abs(errors[worst]), 1) << " % ("
    << (*runs[worst])["trace"].get<std::string>() << ").\n";
}

void bundle_markdown(std::ostringstream& o, const json& full)
{
  if (full.contains("bundle")) {
    const json& b = full["bundle"];
    o << "\n## Bundle\n\n`" << b["manifest"].get<std::string>() << "`: role " << b["role"].get<std::string>() << ", "
      << b["vcpus"] << " vCPUs";
    for (const auto& d : b["devices"])
      o << "; " << d["name"].get<std::string>() << ": " << d["hw_queues"] << " hardware queue(s)";
    o << ".\n";
    if (not b["checks"].empty()) {
      o << "\n| device | check | expected | observed | ok |\n|---|---|---|---|---|\n";
      for (const auto& c : b["checks"])
        o << "| " << c["device"].get<std::string>() << " | " << c["check"].get<std::string>() << " | " << c["expected"]
          << " | " << c["observed"] << " | " << (c["ok"].get<bool>() ? "yes" : "**MISMATCH**") << " |\n";
      o << "\nStructure mismatches: " << b["mismatches"] << "\n";
    }
    for (const auto& n : b["notes"])
      o << "\n- " << n.get<std::string>();
    o << "\n";
  }
}

} // namespace

} // namespace pvsim::validation
