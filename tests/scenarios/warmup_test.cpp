/* The warm-up is excluded from every statistic of every model (issue 12, bug 2). Each shipped scenario runs twice
 * through `pvsim stats` (every statistic the models declare, with its kind): with no warm-up, and with its own warm-up
 * (a fifth of the run if it has none). Both runs end at the same time, so the second one's window holds fewer
 * events. Every counted statistic (counter, tally) whose no-warm-up value would put at least 10 events in the warm-up
 * at its average rate must come out smaller with the warm-up: a model that forgot to restart it gives the same value
 * twice. A formula (a rate, a utilisation, a ratio) cannot be checked that way, so the second check looks at every
 * statistic right after the warm-up restarted them (`pvsim stats --json`'s "after_restart"): each count, maximum and
 * formula must read zero there; one that does not reads something the warm-up left in. */
#include "tests/support/cli_support.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

using namespace pvsim::test;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

json stats_of(const std::string& file, const std::string& set = "")
{
  auto r = run_pvsim("stats --json " + file + (set.empty() ? "" : " --set " + set));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return r.exit_code == 0 ? json::parse(r.output) : json::object();
}

/** The number of events a counted statistic holds (a tally: the sum of its counts), or -1 if it is not counted. */
double count_of(const json& s)
{
  if (s["kind"] == "counter")
    return s["value"].get<double>();
  if (s["kind"] == "tally") {
    double n = 0;
    for (const auto& [k, v] : s["value"].items())
      n += v.get<double>();
    return n;
  }
  return -1;
}

/** Is every number in `v` zero (objects and arrays of numbers included)? */
bool all_zero(const json& v)
{
  if (v.is_structured())
    return std::all_of(v.begin(), v.end(), [](const json& x) { return all_zero(x); });
  return not v.is_number() or v.get<double>() == 0;
}
} // namespace

class WarmupExcluded : public ::testing::TestWithParam<std::string> {};

TEST_P(WarmupExcluded, FromEveryCountedStatistic)
{
  std::string file = source_dir() + "/scenarios/" + GetParam() + ".json";
  json none        = stats_of(file, "warmup=0s");
  ASSERT_TRUE(none.contains("statistics"));
  double duration_s = none["simulated_time_s"].get<double>();
  json warm         = stats_of(file);
  ASSERT_TRUE(warm.contains("statistics"));
  if (warm["window_s"].get<double>() >= duration_s)
    warm = stats_of(file, "warmup=" + std::to_string(duration_s / 5) + "s");
  double warmup_s = duration_s - warm["window_s"].get<double>();
  ASSERT_GT(warmup_s, 0);

  const json &a = none["statistics"], &b = warm["statistics"];
  ASSERT_EQ(a.size(), b.size()) << "the same statistics whatever the warm-up";
  int checked = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    std::string what = a[i]["component"].get<std::string>() + a[i]["pointer"].get<std::string>();
    ASSERT_EQ(what, b[i]["component"].get<std::string>() + b[i]["pointer"].get<std::string>());
    double n0 = count_of(a[i]), nw = count_of(b[i]);
    if (n0 < 0 or n0 * warmup_s / duration_s < 10)
      continue;
    ++checked;
    EXPECT_LT(nw, n0) << what << " (" << a[i]["doc"].get<std::string>() << "): " << n0 << " without a warm-up, " << nw
                      << " with one: the warm-up is not excluded";
  }
  std::printf("[warmup] %s: %zu statistics; warm-up %.3g s of %.3g s; %d counted statistics large enough to check\n",
              GetParam().c_str(), a.size(), warmup_s, duration_s, checked);
}

TEST_P(WarmupExcluded, NoStatisticKeepsAnythingAcrossTheRestart)
{
  std::string file = source_dir() + "/scenarios/" + GetParam() + ".json";
  json none        = stats_of(file, "warmup=0s");
  ASSERT_TRUE(none.contains("statistics"));
  json warm = stats_of(file, "warmup=" + std::to_string(none["simulated_time_s"].get<double>() / 5) + "s");
  ASSERT_TRUE(warm.contains("statistics"));
  int checked = 0;
  for (const auto& st : warm["statistics"]) {
    std::string kind = st["kind"];
    if (kind == "level" or kind == "peak" or kind == "info") // a level holds its value across a restart
      continue;
    ASSERT_TRUE(st.contains("after_restart")) << st.dump();
    ++checked;
    EXPECT_TRUE(all_zero(st["after_restart"]))
        << st["component"].get<std::string>() << st["pointer"].get<std::string>() << " (" << kind << ", "
        << st["doc"].get<std::string>() << ") reads " << st["after_restart"].dump()
        << " right after the warm-up's restart: it keeps what the warm-up counted";
  }
  std::printf("[warmup] %s: %d statistics read zero right after the restart\n", GetParam().c_str(), checked);
  EXPECT_GT(checked, 0);
}

INSTANTIATE_TEST_SUITE_P(Shipped, WarmupExcluded, ::testing::ValuesIn(shipped_scenario_names()),
                         [](const ::testing::TestParamInfo<std::string>& i) {
                           std::string n = i.param;
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });
