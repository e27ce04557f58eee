/* pvsim regress: a suite of scenarios, each run over several seeds, against a stored baseline.
 *
 * `pvsim regress --update` runs every scenario of the suite (every scenario file in scenarios/policies) once per seed and stores each
 * metric's values (analysis/regress/metrics.hpp) in the baseline (scenarios/policies/baseline.json). `pvsim regress`
 * runs them again and compares every metric with its baseline through the noise test of compare.hpp: a table on the
 * terminal (regressed and improved metrics, with the baseline's and the current median and range, the change and the
 * p-value), a JSON report with every metric, and exit code 1 when a metric regressed, a run failed, or a metric of
 * the baseline is gone; so it can gate a CI job. One pvsim process per run, side by side. */
#pragma once

#include "analysis/regress/compare.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace pvsim::regress {

struct Options {
  std::string suite_dir = "scenarios/policies";
  std::string baseline;             // default: <suite_dir>/baseline.json
  int repeats              = 8;     // seeds per scenario
  std::uint64_t first_seed = 1;     // seeds first_seed .. first_seed + repeats - 1
  bool update              = false; // write the baseline instead of comparing
  int parallel             = 1;     // pvsim processes at once
  std::string json_out;             // the report as JSON (every metric)
  bool all   = false;               // print unchanged metrics too
  bool quiet = false;               // no progress, no table (the exit code and the JSON only)
  NoiseTest test;
  std::string pvsim_exe = "/proc/self/exe";
};

/** Runs the suite; returns the exit code (0 nothing regressed, 1 something regressed or failed). Bad input (no
 * scenarios, no baseline, a baseline of another suite) throws InputError. */
int regress_command(const Options& opt);

} // namespace pvsim::regress
