/* pvsim: accuracy summary of a validation (see accuracy.hpp). */
#include "analysis/calibration/accuracy.hpp"

#include "analysis/calibration/validation.hpp"

#include <cmath>
#include <map>
#include <vector>

namespace pvsim::validation {

namespace {

/** The signed error of largest magnitude, and its row's `label` (its run's "trace", or its "config"). */
json worst(const json& rows, const std::function<const json*(const json&)>& error_of, const char* label = "trace")
{
  json w = nullptr;
  for (const auto& r : rows) {
    const json* e = error_of(r);
    if (e == nullptr)
      continue;
    if (w.is_null() or std::abs(e->get<double>()) > std::abs(w["error_pct"].get<double>()))
      w = {{"error_pct", *e}, {label, r[label]}};
  }
  return w;
}

/** Whether pvsim's median |error| of IOPS and clat mean, and its worst |IOPS error|, are below the bound
 * interpolation's, from a "models" block; null without that baseline. */
json beats_bound(const json& models)
{
  if (not models.contains("bound_interpolation"))
    return nullptr;
  const json &pm = models["pvsim"], &bm = models["bound_interpolation"];
  json beats;
  for (const char* k : {"iops", "clat_mean_us"})
    beats[k] = pm["median_abs_error_pct"][k].get<double>() < bm["median_abs_error_pct"][k].get<double>();
  beats["worst_iops"] =
      std::abs(pm["worst_iops"]["error_pct"].get<double>()) < std::abs(bm["worst_iops"]["error_pct"].get<double>());
  return beats;
}

} // namespace

json side_by_side(const json& all_runs)
{
  // The runs every model predicts: a baseline needs a calibration run of the run's direction (a write held out from
  // a read-only calibration set has none), pvsim predicts it anyway.
  json runs = json::array(), left_out = json::array();
  for (const auto& r : all_runs)
    (r["baselines"].contains("bound_interpolation") ? runs : left_out).push_back(r);
  for (auto& r : left_out)
    r = r["trace"];
  json models;
  json p = json::object();
  p["median_abs_error_pct"] = median_abs_errors(runs, {"iops", "clat_mean_us", "clat_p99_us"});
  p["worst_iops"] = worst(runs, [](const json& r) { return &r["error_pct"]["iops"]; });
  models["pvsim"] = p;
  for (const std::string b : {"bound_interpolation", "mva"}) {
    json m = json::object();
    for (const char* k : {"iops", "clat_mean_us"}) {
      std::vector<double> v;
      for (const auto& r : runs)
        if (r["baselines"].contains(b))
          v.push_back(r["baselines"][b]["error_pct"][k].get<double>());
      if (v.size() == runs.size() and not v.empty())
        m["median_abs_error_pct"][k] = median_abs(v);
    }
    if (m.empty())
      continue; // a baseline missing on some run is not compared on different runs
    m["worst_iops"] = worst(runs, [&](const json& r) -> const json* {
      return r["baselines"].contains(b) ? &r["baselines"][b]["error_pct"]["iops"] : nullptr;
    });
    models[b]       = m;
  }
  json out = {{"runs", runs.size()}, {"left_out", left_out}, {"models", models}};
  if (json beats = beats_bound(models); not beats.is_null())
    out["pvsim_beats_bound"] = beats;
  return out;
}

json repeat_floor(const json& all_runs)
{
  std::map<std::string, std::vector<const json*>> by_config;
  for (const auto& r : all_runs)
    by_config[r["config"].get<std::string>()].push_back(&r);
  json floor_rows = json::array(), pvsim_rows = json::array();
  for (const auto& [key, runs] : by_config) {
    if (runs.size() < 2)
      continue;
    for (const json* r : runs) {
      double iops = 0, clat = 0;
      for (const json* other : runs)
        if (other != r) {
          iops += (*other)["measured"]["iops"].get<double>();
          clat += (*other)["measured"]["clat_mean_us"].get<double>();
        }
      const double others = static_cast<double>(runs.size() - 1);
      const json& m       = (*r)["measured"];
      floor_rows.push_back({{"trace", (*r)["trace"]},
                            {"error_pct",
                             {{"iops", error_pct(iops / others, m["iops"].get<double>())},
                              {"clat_mean_us", error_pct(clat / others, m["clat_mean_us"].get<double>())}}}});
      pvsim_rows.push_back(
          {{"trace", (*r)["trace"]},
           {"error_pct", {{"iops", (*r)["error_pct"]["iops"]}, {"clat_mean_us", (*r)["error_pct"]["clat_mean_us"]}}}});
    }
  }
  if (floor_rows.empty())
    return nullptr;
  json models;
  for (auto [name, rows] : {std::pair<const char*, const json*>{"repeats", &floor_rows}, {"pvsim", &pvsim_rows}})
    models[name] = {{"median_abs_error_pct", median_abs_errors(*rows, {"iops", "clat_mean_us"})},
                    {"worst_iops", worst(*rows, [](const json& r) { return &r["error_pct"]["iops"]; })}};
  json within;
  for (const char* k : {"iops", "clat_mean_us"})
    within[k] = models["pvsim"]["median_abs_error_pct"][k].get<double>() <=
                models["repeats"]["median_abs_error_pct"][k].get<double>();
  return {{"runs", floor_rows.size()}, {"models", models}, {"pvsim_within_floor", within}};
}

json by_configuration(const json& all_runs)
{
  std::map<std::string, std::vector<const json*>> by_config;
  int runs = 0;
  for (const auto& r : all_runs)
    if (r["baselines"].contains("bound_interpolation")) {
      by_config[r["config"].get<std::string>()].push_back(&r);
      ++runs;
    }
  if (by_config.empty())
    return nullptr;
  // One row per configuration and model: (mean predicted - mean measured) / mean measured.
  json rows = json::object();
  for (const auto& [key, members] : by_config) {
    const double n = static_cast<double>(members.size());
    std::map<std::string, double> measured, pvsim;
    std::map<std::string, std::map<std::string, double>> baseline;
    std::map<std::string, std::size_t> baseline_runs; // runs of the configuration each baseline predicted
    for (const json* r : members) {
      for (const char* k : {"iops", "clat_mean_us"}) {
        measured[k] += (*r)["measured"][k].get<double>() / n;
        pvsim[k] += (*r)["predicted"][k].get<double>() / n;
      }
      for (const auto& [b, v] : (*r)["baselines"].items()) {
        ++baseline_runs[b];
        for (const char* k : {"iops", "clat_mean_us"})
          baseline[b][k] += v[k].get<double>() / n;
      }
    }
    auto errors = [&](const std::map<std::string, double>& predicted) {
      return json{{"config", key},
                  {"error_pct",
                   {{"iops", error_pct(predicted.at("iops"), measured["iops"])},
                    {"clat_mean_us", error_pct(predicted.at("clat_mean_us"), measured["clat_mean_us"])}}}};
    };
    rows["pvsim"].push_back(errors(pvsim));
    for (const auto& [b, v] : baseline)
      if (baseline_runs[b] == members.size())
        rows[b].push_back(errors(v));
  }
  json models;
  for (const std::string m : {"pvsim", "bound_interpolation", "mva"}) {
    if (not rows.contains(m) or rows[m].size() != by_config.size())
      continue; // a model missing on some configuration is not compared on different ones
    models[m] = {{"median_abs_error_pct", median_abs_errors(rows[m], {"iops", "clat_mean_us"})},
                 {"worst_iops", worst(
                                    rows[m], [](const json& r) { return &r["error_pct"]["iops"]; }, "config")}};
  }
  json out = {{"configurations", by_config.size()}, {"runs", runs}, {"models", models}};
  if (json beats = beats_bound(models); not beats.is_null())
    out["pvsim_beats_bound"] = beats;
  return out;
}

void add_accuracy(json& full, const RepeatNoise& noise)
{
  int outside = 0, judged = 0;
  int covered_iops = 0, covered_clat = 0, intervals = 0;
  for (auto& r : full["runs"]) {
    auto band = noise.band(r["config"].get<std::string>());
    if (band) {
      bool out           = RepeatNoise::outside(r["error_pct"]["iops"].get<double>(), *band);
      r["noise"]         = {{"iops_cv_pct", band->iops_cv * 100},
                            {"clat_mean_cv_pct", band->clat_mean_cv * 100},
                            {"source", band->source},
                            {"runs", band->runs}};
      r["outside_noise"] = out;
      ++judged;
      outside += out ? 1 : 0;
    } else {
      r["noise"]         = nullptr;
      r["outside_noise"] = nullptr;
    }
    if (r.contains("interval")) {
      ++intervals;
      covered_iops += r["interval"]["inside"]["iops"].get<bool>() ? 1 : 0;
      covered_clat += r["interval"]["inside"]["clat_mean_us"].get<bool>() ? 1 : 0;
    }
  }
  json& s            = full["summary"];
  s["noise"]         = noise.to_json();
  s["outside_noise"] = {{"runs", outside}, {"judged", judged}, {"of", full["runs"].size()}};
  s["side_by_side"]  = side_by_side(full["runs"]);
  s["repeat_floor"]  = repeat_floor(full["runs"]);
  s["by_configuration"] = by_configuration(full["runs"]);
  if (intervals > 0)
    s["coverage"] = {{"runs", intervals},
                     {"iops", static_cast<double>(covered_iops) / intervals},
                     {"clat_mean_us", static_cast<double>(covered_clat) / intervals}};
}

} // namespace pvsim::validation
