/* Test helpers that run pvsim and read its JSON outputs. */
#pragma once

#include "tests/support/cli_support.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

namespace pvsim::test {

/** results.json of `pvsim run scenarios/SCENARIO` with the given --set overrides (one pvsim process). */
inline nlohmann::json run_scenario(const std::string& scenario, const std::vector<std::string>& sets)
{
  TempDir dir;
  std::string cmd = "run -q " + source_dir() + "/scenarios/" + scenario + " -o " + dir.file("o");
  for (const auto& s : sets)
    cmd += " --set " + s;
  auto r = run_pvsim(cmd);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return nlohmann::json::parse(read_file(dir.file("o/results.json")));
}

/** The structure checks of a `validate --bundle` output's "bundle" object whose description contains `what`. */
inline std::vector<nlohmann::json> checks_about(const nlohmann::json& bundle, const std::string& what)
{
  std::vector<nlohmann::json> out;
  for (const auto& c : bundle["checks"])
    if (c["check"].get<std::string>().find(what) != std::string::npos)
      out.push_back(c);
  return out;
}

/** " --trace F" for every fio result (*.json) in `dir`, in name order: the arguments of calibrate and validate. */
inline std::string trace_args(const std::string& dir)
{
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().extension() == ".json")
      files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  std::string args;
  for (const auto& f : files)
    args += " --trace " + f;
  return args;
}

/** The JSON of `pvsim validate -q MODE TRACES` (a leave-out mode: --kfold K, --hold-out EXPR, --leave-out config). */
inline nlohmann::json validate_json(const std::string& mode, const std::string& traces, const TempDir& dir)
{
  auto r = run_pvsim("validate -q " + mode + traces + " --json " + dir.file("v.json"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return read_json_file(dir.file("v.json"));
}

/** A validation's median |error| (%) of `key` (iops, clat_mean_us, clat_p99_us...) over its predicted runs. */
inline double median_abs_error(const nlohmann::json& v, const char* key)
{
  return v["summary"]["median_abs_error_pct"][key].get<double>();
}

} // namespace pvsim::test
