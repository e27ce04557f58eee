/* The shipped policy suite (scenarios/policies/) against its committed baseline: `pvsim regress` must pass, so a
 * change of the models that moves a policy's results beyond the noise fails CI until the baseline is regenerated on
 * purpose (`./build/pvsim regress --update`, and the diff reviewed). */
#include "tests/support/cli_support.hpp"

#include <nlohmann/json.hpp>

using namespace pvsim::test;
using nlohmann::json;

TEST(PolicySuite, MatchesItsBaselineWithinTheNoise)
{
  TempDir dir;
  std::string suite = source_dir() + "/scenarios/policies";
  auto r            = run_pvsim("regress --suite " + suite + " --json " + dir.file("report.json"));
  std::printf("%s", r.output.c_str());
  EXPECT_EQ(r.exit_code, 0) << "regressed beyond the noise (or a run failed); if intended, regenerate the baseline "
                               "with ./build/pvsim regress --update and review its diff";
  json report = json::parse(read_file(dir.file("report.json")));
  EXPECT_GE(report["metrics"].size(), 100u);
}
