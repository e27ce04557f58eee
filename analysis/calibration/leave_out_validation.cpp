/* pvsim: leave-out validation (see leave_out_validation.hpp). */
#include "analysis/calibration/leave_out_validation.hpp"

#include "analysis/calibration/accuracy.hpp"
#include "analysis/calibration/bootstrap.hpp"
#include "analysis/calibration/calibration.hpp"
#include "analysis/calibration/guest_load.hpp"
#include "analysis/calibration/leave_out.hpp"
#include "analysis/calibration/noise.hpp"
#include "analysis/readers/fio_json.hpp"
#include "analysis/runner/process_runs.hpp"
#include "sim/input_error.hpp"
#include "sim/results.hpp"
#include "sim/scenario.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <unistd.h>

namespace fs = std::filesystem;

namespace pvsim::validation {

namespace {

void check_options(const Options& opt)
{
  if (not opt.device_file.empty())
    throw InputError("", "--device",
                     "not with a leave-out (--hold-out, --kfold, --leave-out): a leave-out calibrates itself, fold by "
                     "fold, on the runs it does not predict");
  if (not opt.bundle_dir.empty())
    throw InputError("", "--bundle", "not with a leave-out (give the bundle's fio results with --trace)");
  int modes = (opt.hold_out.empty() ? 0 : 1) + (opt.kfold != 0 ? 1 : 0) + (opt.leave_out.empty() ? 0 : 1);
  if (modes > 1)
    throw InputError("", "--hold-out/--kfold/--leave-out",
                     "one leave-out at a time (got " + std::to_string(modes) + ")");
  if (not opt.leave_out.empty() and opt.leave_out != "config")
    throw InputError("", "--leave-out",
                     "expected 'config' (one fold per configuration), got '" + opt.leave_out + "'" +
                         did_you_mean(opt.leave_out, {"config"}));
  if (opt.interval == 1 or opt.interval < 0)
    throw InputError("", "--interval", "expected B >= 2 bootstrap resamples, got " + std::to_string(opt.interval));
  if (opt.traces.empty())
    throw InputError("", "--trace", "no trace given (expected one or more fio json+ result files)");
}

struct Sim {
  std::size_t fold;
  std::size_t run;
  int resample; // -1: the fold's own calibration
  std::string scenario, outdir;
};

} // namespace

double quantile(std::vector<double> values, double q)
{
  if (values.empty())
    return 0;
  std::sort(values.begin(), values.end());
  double pos     = q * static_cast<double>(values.size() - 1);
  std::size_t lo = static_cast<std::size_t>(std::floor(pos));
  std::size_t hi = std::min(lo + 1, values.size() - 1);
  return values[lo] + (values[hi] - values[lo]) * (pos - static_cast<double>(lo));
}

json run_leave_out(const Options& opt)
{
  check_options(opt);
  std::vector<RunConfig> configs;
  std::vector<calibration::RunFacts> facts;
  for (const auto& t : opt.traces) {
    auto result = readers::read_fio_json(t);
    auto f      = calibration::run_facts(result);
    configs.push_back(run_config(t, f.front(), result.jobs.front().nrfiles()));
    facts.push_back(f.front());
  }
  const auto load = guest_load_of(opt.traces); // read before simulating: a bad summary.csv stops here
  for (std::size_t i = 0; i < facts.size(); ++i)
    facts[i].foreign_cpus = guest_load_for(load, opt.traces[i]);
  std::vector<Fold> folds;
  std::string mode;
  if (not opt.hold_out.empty()) {
    folds = hold_out_folds(configs, opt.hold_out);
    mode  = "leave-out: " + folds.front().name;
  } else if (opt.kfold != 0) {
    folds = kfold_folds(configs, opt.kfold);
    mode  = "leave-out: " + std::to_string(opt.kfold) + "-fold by configuration";
  } else {
    folds = config_folds(configs);
    mode  = "leave-out: each configuration in turn (" + std::to_string(folds.size()) + " folds)";
  }
  bool progress = not opt.quiet and ::isatty(STDERR_FILENO);
  std::vector<json> devices;
  std::vector<std::vector<calibration::Resample>> resamples;
  for (std::size_t k = 0; k < folds.size(); ++k) {
    std::vector<std::string> files, keys;
    for (std::size_t i : folds[k].calibration) {
      files.push_back(configs[i].file);
      keys.push_back(configs[i].key());
    }
    if (progress)
      std::cerr << "\rvalidate: calibrating fold " << k + 1 << "/" << folds.size() << std::flush;
    try {
      devices.push_back(calibration::calibrate(files, "auto", opt.fio_loop));
    } catch (const InputError& e) {
      throw InputError(e.file(), e.where(), e.detail() + " (calibrating " + folds[k].name + ")");
    }
    resamples.emplace_back();
    if (opt.interval >= 2)
      resamples.back() = calibration::bootstrap_calibrations(files, keys, opt.interval, devices.back(), [&](int b) {
        if (progress)
          std::cerr << "\rvalidate: calibrating fold " << k + 1 << "/" << folds.size() << ", bootstrap " << b + 1 << "/"
                    << opt.interval << "   " << std::flush;
      });
  }
  if (progress)
    std::cerr << "\n";

  fs::path tmp(make_temp_dir("pvsim-validate"));
  std::vector<Sim> sims;
  for (std::size_t k = 0; k < folds.size(); ++k)
    for (std::size_t i : folds[k].held_out)
      for (int b = -1; b < static_cast<int>(resamples[k].size()); ++b) {
        const json& device = b < 0 ? devices[k] : resamples[k][b].device;
        std::uint64_t seed = b < 0 ? opt.seed : opt.seed + 1 + static_cast<std::uint64_t>(b);
        json scen          = calibration::scenario_for_run(
                     device, facts[i], run_duration_s(opt, facts[i], b < 0 ? prediction_times_measured : 1.0), opt.warmup_s,
                     seed);
        char name[64];
        std::snprintf(name, sizeof name, "f%zu_r%zu_b%d", k, i, b + 1);
        sims.push_back({k, i, b, (tmp / (std::string(name) + ".json")).string(), (tmp / name).string()});
        std::ofstream(sims.back().scenario) << scen.dump(2) << "\n";
      }
  std::vector<std::string> files, outs;
  for (const auto& s : sims) {
    files.push_back(s.scenario);
    outs.push_back(s.outdir);
  }
  std::vector<int> status = run_simulations(opt.pvsim_exe, files, outs, opt.parallel, not opt.quiet);

  std::vector<json> rows(configs.size());
  std::vector<std::vector<double>> iops_samples(configs.size()), clat_samples(configs.size());
  std::vector<int> failed(configs.size(), 0);
  for (std::size_t s = 0; s < sims.size(); ++s) {
    const Sim& sim = sims[s];
    std::size_t i  = sim.run;
    if (sim.resample < 0) {
      json results    = simulation_results(status[s], configs[i].file, sim.scenario, sim.outdir,
                                           "(the calibration of " + folds[sim.fold].name + ")");
      rows[i]         = compare_run(devices[sim.fold], configs[i], facts[i], results, false);
      rows[i]["fold"] = folds[sim.fold].name;
    } else if (status[s] == 0) {
      json p = predicted_of(resamples[sim.fold][sim.resample].device, facts[i],
                            read_json_file(sim.outdir + "/results.json"), false);
      iops_samples[i].push_back(p["iops"].get<double>());
      clat_samples[i].push_back(p["clat_mean_us"].get<double>());
    } else {
      ++failed[i]; // a resample's scenario the model rejects: left out of the interval, and counted
    }
  }
  json runs = json::array();
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (rows[i].is_null())
      continue; // a calibration run of the only fold
    if (opt.interval >= 2 and iops_samples[i].empty()) {
      rows[i]["interval_failed"] = failed[i]; // every resample's scenario was rejected: no interval
    } else if (opt.interval >= 2) {
      double lo = quantile(iops_samples[i], 0.1), hi = quantile(iops_samples[i], 0.9);
      double clo = quantile(clat_samples[i], 0.1), chi = quantile(clat_samples[i], 0.9);
      double mi = rows[i]["measured"]["iops"].get<double>(), mc = rows[i]["measured"]["clat_mean_us"].get<double>();
      rows[i]["interval"] = {{"resamples", iops_samples[i].size()},
                             {"failed", failed[i]},
                             {"iops", {lo, hi}},
                             {"clat_mean_us", {clo, chi}},
                             {"inside", {{"iops", lo <= mi and mi <= hi}, {"clat_mean_us", clo <= mc and mc <= chi}}}};
    }
    runs.push_back(rows[i]);
  }
  std::error_code ec;
  fs::remove_all(tmp, ec);

  json folds_doc = json::array();
  for (std::size_t k = 0; k < folds.size(); ++k) {
    json cal = json::array(), held = json::array();
    for (std::size_t i : folds[k].calibration)
      cal.push_back(fs::path(configs[i].file).filename().string());
    for (std::size_t i : folds[k].held_out)
      held.push_back(fs::path(configs[i].file).filename().string());
    json f = {{"name", folds[k].name},
              {"calibration", cal},
              {"held_out", held},
              {"not_fitted", devices[k].value("not_fitted", json::array())}};
    if (not folds[k].notes.empty())
      f["notes"] = folds[k].notes;
    if (not resamples[k].empty()) {
      int redrawn = 0;
      for (const auto& r : resamples[k])
        redrawn += r.redrawn;
      f["bootstrap"] = {{"resamples", resamples[k].size()}, {"redrawn", redrawn}};
    }
    folds_doc.push_back(f);
  }
  if (opt.fio_loop != "batched")
    mode += ", job.fio loop \"" + opt.fio_loop + "\"";
  json full = {{"device", "(calibrated fold by fold on the calibration runs: see folds)"},
               {"mode", mode},
               {"folds", folds_doc},
               {"runs", runs},
               {"summary", summarize_runs(runs)}};
  std::vector<double> iops, clat;
  for (const auto& f : facts) {
    iops.push_back(f.iops);
    clat.push_back(f.clat_mean_s);
  }
  add_accuracy(full, RepeatNoise(configs, iops, clat));
  add_guest_load(full, load);
  return full;
}

} // namespace pvsim::validation
