/* Test helpers that run pvsim and read its JSON outputs. */
#pragma once

#include "tests/support/cli_support.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

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

} // namespace pvsim::test
