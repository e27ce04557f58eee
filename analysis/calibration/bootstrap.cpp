/* pvsim: bootstrap of a calibration (see bootstrap.hpp). */
#include "analysis/calibration/bootstrap.hpp"

#include "analysis/calibration/calibration.hpp"
#include "analysis/calibration/leave_out.hpp"
#include "sim/input_error.hpp"

#include <algorithm>
#include <iostream>
#include <map>
#include <random>

namespace pvsim::calibration {

namespace {

constexpr int max_redraws = 20;

/** True when every "not_fitted" note of `device` is also one of `reference`: the resample fits all the whole set
 * fits. */
bool fits_as_much(const json& device, const json& reference)
{
  const json none = json::array();
  const json& ref = reference.contains("not_fitted") ? reference["not_fitted"] : none;
  for (const auto& n : device.value("not_fitted", none))
    if (std::find(ref.begin(), ref.end(), n) == ref.end())
      return false;
  return true;
}

} // namespace

std::vector<Resample> bootstrap_calibrations(const std::vector<std::string>& files,
                                             const std::vector<std::string>& config_keys, int resamples,
                                             const json& fitted_reference, const std::function<void(int)>& on_done)
{
  std::vector<std::string> keys; // distinct, in first-seen order of the sorted input: deterministic
  std::map<std::string, std::vector<std::string>> runs_of;
  for (std::size_t i = 0; i < files.size(); ++i) {
    if (runs_of.find(config_keys[i]) == runs_of.end())
      keys.push_back(config_keys[i]);
    runs_of[config_keys[i]].push_back(files[i]);
  }
  std::sort(keys.begin(), keys.end());
  std::vector<Resample> out;
  for (int b = 0; b < resamples; ++b) {
    Resample r;
    for (int attempt = 0; attempt <= max_redraws; ++attempt) {
      r.seed = static_cast<std::uint64_t>(b) + 1 + static_cast<std::uint64_t>(resamples) * attempt;
      std::mt19937_64 rng(r.seed);
      r.configurations.clear();
      r.files.clear();
      for (std::size_t i = 0; i < keys.size(); ++i) {
        const std::string& k = keys[rng() % keys.size()];
        r.configurations.push_back(k);
        for (const auto& f : runs_of[k])
          r.files.push_back(f);
      }
      r.device  = calibrate(r.files, "auto", fio_loop_of(fitted_reference));
      r.redrawn = attempt;
      if (fits_as_much(r.device, fitted_reference))
        break;
    }
    out.push_back(std::move(r));
    if (on_done)
      on_done(b);
  }
  return out;
}

json bootstrap_uncertainty(const std::vector<std::string>& trace_files, int resamples, const json& device,
                           bool progress)
{
  if (resamples < 2)
    throw InputError("", "--bootstrap", "expected at least 2 resamples, got " + std::to_string(resamples));
  std::vector<std::string> keys;
  for (const auto& f : trace_files)
    keys.push_back(validation::read_run_config(f).key());
  auto done = [&](int b) {
    if (progress)
      std::cerr << "\rcalibrate: bootstrap " << b + 1 << "/" << resamples << (b + 1 == resamples ? "\n" : "")
                << std::flush;
  };
  json sets = json::array();
  for (auto& r : bootstrap_calibrations(trace_files, keys, resamples, device, done))
    sets.push_back({{"seed", r.seed},
                    {"configurations", r.configurations},
                    {"redrawn", r.redrawn},
                    {"parameters", r.device["parameters"]},
                    {"baselines", r.device["baselines"]},
                    {"not_fitted", r.device["not_fitted"]},
                    {"scenario_fragment", r.device["scenario_fragment"]}});
  return {{"method", "bootstrap over configurations: each resample draws as many configurations as the runs have, "
                     "with replacement (every run of a drawn configuration, std::mt19937_64 seeded b + 1), and is "
                     "calibrated like the whole set; a resample leaving unfitted what the whole set fits is redrawn"},
          {"resamples", resamples},
          {"parameter sets", sets}};
}

} // namespace pvsim::calibration
