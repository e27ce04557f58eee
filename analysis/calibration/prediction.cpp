#include "analysis/calibration/prediction.hpp"

#include "analysis/calibration/calibration.hpp"
#include "analysis/calibration/leave_out_validation.hpp"
#include "analysis/calibration/validation.hpp"
#include "analysis/runner/process_runs.hpp"
#include "sim/input_error.hpp"
#include "sim/scenario.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace pvsim::prediction {

namespace fs = std::filesystem;

namespace {
/** The fio run the configuration stands for, as validate describes a measured one. */
calibration::RunFacts facts_of(const Options& opt)
{
  calibration::RunFacts run;
  run.file         = "predict";
  run.rw           = opt.rw;
  run.engine       = opt.engine;
  run.sync_engine  = calibration::is_sync_engine(opt.engine);
  run.iodepth      = run.sync_engine ? 1 : opt.iodepth;
  run.numjobs      = opt.numjobs;
  run.bs           = opt.bs;
  run.direction    = opt.rw.find("write") != std::string::npos ? "write" : "read";
  run.foreign_cpus = opt.background_cpus;
  return run;
}
} // namespace

double run_length_s(const Options& opt, const json& device, bool bootstrap_set)
{
  if (opt.duration_s)
    return *opt.duration_s;
  double fitted = validation::prediction_times_measured * reference_runtime_s; // validate's rule for a measured run
  if (auto x = validation::bound_formula_iops(device, facts_of(opt)))
    fitted = std::min(fitted, validation::prediction_max_requests / *x);
  else
    fitted = reference_runtime_s; // no rate to bound it by
  fitted = std::max(fitted, min_run_s);
  return bootstrap_set ? std::max(min_run_s, fitted / validation::prediction_times_measured) : fitted;
}

json predict(const Options& opt)
{
  json device = calibration::read_device_file(opt.device_file);
  if (opt.iodepth < 1 or opt.numjobs < 1)
    throw InputError("", opt.iodepth < 1 ? "--iodepth" : "--numjobs", "expected 1 or more");
  if (opt.duration_s and not(*opt.duration_s > 0))
    throw InputError("", "--duration", "expected a positive number of simulated seconds");
  if (int vcpus = device["guest"]["vcpus"].get<int>();
      opt.background_cpus and not(*opt.background_cpus >= 0 and *opt.background_cpus <= vcpus))
    throw InputError("", "--background-cpus",
                     "expected 0 to " + std::to_string(vcpus) + " CPUs (the device file's guest has " +
                         std::to_string(vcpus) + " vCPUs), got " + std::to_string(*opt.background_cpus));
  const double fitted_s = run_length_s(opt, device, false), set_s = run_length_s(opt, device, true);
  const calibration::RunFacts run = facts_of(opt);

  // The fitted parameters, then each bootstrap parameter set in place of them.
  std::vector<json> devices{device};
  if (device.contains("uncertainty"))
    for (const auto& set : device["uncertainty"]["parameter sets"]) {
      if (opt.max_sets > 0 and static_cast<int>(devices.size()) > opt.max_sets)
        break;
      json d                 = device;
      d["scenario_fragment"] = set["scenario_fragment"];
      if (not d["scenario_fragment"]["components"].contains("guest")) // this resample had no quiet/loaded split:
        d.erase("guest_load");                                         // its host preemption holds the whole tail
      devices.push_back(d);
    }
  fs::path tmp(make_temp_dir("pvsim-predict"));
  std::vector<std::string> files, outs;
  json sc_background_cpus = nullptr; // what the fitted parameters' run got (none: a quiet guest)
  for (std::size_t i = 0; i < devices.size(); ++i) {
    double duration = i == 0 ? fitted_s : set_s;
    double warmup   = std::min(opt.warmup_s, duration / 10); // a short run keeps most of its time measured
    json sc         = calibration::scenario_for_run(devices[i], run, duration + warmup, warmup, opt.seed + i);
    if (opt.background_cpus) // also on a device file fitted without recorded loads: guest.vm's own defaults then
      sc["components"]["guest"]["background_cpus"] = *opt.background_cpus;
    if (i == 0 and sc["components"]["guest"].contains("background_cpus"))
      sc_background_cpus = sc["components"]["guest"]["background_cpus"];
    files.push_back((tmp / ("s" + std::to_string(i) + ".json")).string());
    outs.push_back((tmp / ("o" + std::to_string(i))).string());
    std::ofstream(files.back()) << sc.dump();
    if (i == 0 and not opt.scenario_out.empty()) {
      std::ofstream f(opt.scenario_out);
      if (not(f << sc.dump(2) << "\n"))
        throw std::runtime_error("cannot write " + opt.scenario_out);
    }
  }
  std::vector<int> status = validation::run_simulations(opt.pvsim_exe, files, outs, opt.parallel);
  json fitted = validation::simulation_results(status.at(0), "the configuration", files[0], outs[0], opt.device_file);
  json out    = {{"device", opt.device_file},
                 {"configuration",
                  {{"rw", run.rw},
                   {"engine", run.engine},
                   {"iodepth", run.iodepth},
                   {"numjobs", run.numjobs},
                   {"bs", run.bs},
                   {"background_cpus", sc_background_cpus}}},
                 {"stack", device.contains("stack") ? device["stack"]["vmm"] : json("qemu")},
                 {"predicted", validation::predicted_of(device, run, fitted, false)},
                 {"simulated_s", {{"fitted", fitted_s}, {"each_set", set_s}}}};
  out["predicted"].erase("cdf");
  std::vector<double> iops, clat;
  for (std::size_t i = 1; i < devices.size(); ++i) {
    if (status[i] != 0)
      continue;
    json p = validation::predicted_of(devices[i], run, read_json_file(outs[i] + "/results.json"), false);
    iops.push_back(p["iops"].get<double>());
    clat.push_back(p["clat_mean_us"].get<double>());
  }
  if (not iops.empty())
    out["interval"] = {{"sets", iops.size()},
                       {"iops", {validation::quantile(iops, 0.1), validation::quantile(iops, 0.9)}},
                       {"clat_mean_us", {validation::quantile(clat, 0.1), validation::quantile(clat, 0.9)}},
                       {"holds", "10th-90th percentiles over the bootstrap parameter sets and their seeds; not the "
                                 "run-to-run noise of a real host"}};
  else
    out["interval"] = nullptr;
  std::error_code ec;
  fs::remove_all(tmp, ec);
  return out;
}

int predict_command(const Options& opt)
{
  json out = predict(opt);
  if (not opt.json_out.empty()) {
    std::ofstream f(opt.json_out);
    if (not f)
      throw std::runtime_error("cannot write " + opt.json_out);
    f << out.dump(2) << "\n";
  }
  if (not opt.quiet) {
    const json& p = out["predicted"];
    std::printf("%s %s iodepth %d numjobs %d bs %llu on the %s stack of %s\n", opt.rw.c_str(), opt.engine.c_str(),
                out["configuration"]["iodepth"].get<int>(), opt.numjobs, static_cast<unsigned long long>(opt.bs),
                out["stack"].get<std::string>().c_str(), opt.device_file.c_str());
    std::printf("  IOPS %.0f, clat mean %.1f us, p50 %.1f us, p99 %.1f us (%.3g simulated s)\n",
                p["iops"].get<double>(), p["clat_mean_us"].get<double>(), p["clat_p50_us"].get<double>(),
                p["clat_p99_us"].get<double>(), out["simulated_s"]["fitted"].get<double>());
    if (out["interval"].is_null()) {
      std::printf("  no interval: the device file has no bootstrap parameter sets (pvsim calibrate --bootstrap B)\n");
    } else {
      const json& iv = out["interval"];
      std::printf("  10-90 %% over %d parameter sets: IOPS %.0f-%.0f, clat mean %.1f-%.1f us (parameters and seeds "
                  "only: a real host adds its run-to-run noise)\n",
                  iv["sets"].get<int>(), iv["iops"][0].get<double>(), iv["iops"][1].get<double>(),
                  iv["clat_mean_us"][0].get<double>(), iv["clat_mean_us"][1].get<double>());
    }
  }
  return 0;
}

} // namespace pvsim::prediction
