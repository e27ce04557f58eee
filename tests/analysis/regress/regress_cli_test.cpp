/* pvsim regress end to end, on a suite of one scenario: two guests that share nothing, A's blk-mq map being the
 * policy under test and B the control (tests/data/regress/two-disks.json; 5 seeds a run). */
#include "tests/support/cli_support.hpp"

#include <nlohmann/json.hpp>

#include <set>

using namespace pvsim::test;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {
/** A suite folder holding the two-disk scenario with guest A's map table replaced, and a baseline of the original. */
class Suite {
public:
  Suite()
  {
    fs::create_directories(dir_.path() / "suite");
    set_map("[0, 1, 0, 1]");
    auto r = run_pvsim("regress -q --update --suite " + suite());
    EXPECT_EQ(r.exit_code, 0) << r.output;
  }
  std::string suite() const { return dir_.file("suite"); }
  void set_map(const std::string& table)
  {
    json s = json::parse(read_file(source_dir() + "/tests/data/regress/two-disks.json"));
    s["components"]["blkmq_a"]["map_table"] = json::parse(table);
    s.erase("$schema");
    std::ofstream(dir_.path() / "suite" / "two-disks.json") << s.dump(2);
  }
  /** Runs regress; returns the exit code and the names of the flagged metrics. */
  std::pair<int, std::set<std::string>> regress(const std::string& extra = "")
  {
    auto r = run_pvsim("regress -q --suite " + suite() + " --json " + dir_.file("report.json") + " " + extra);
    std::set<std::string> flagged;
    last_output_ = r.output;
    if (not fs::exists(dir_.file("report.json")))
      return {r.exit_code, flagged};
    json report = json::parse(read_file(dir_.file("report.json")));
    last_output_ += report["summary"].dump();
    for (const auto& m : report["metrics"])
      if (m["verdict"] != "unchanged")
        flagged.insert(m["metric"].get<std::string>());
    return {r.exit_code, flagged};
  }

  const std::string& last_output() const { return last_output_; }

private:
  TempDir dir_;
  std::string last_output_;
};
} // namespace

TEST(Regress, AnUnchangedPolicyPasses)
{
  Suite s;
  auto [rc, flagged] = s.regress();
  EXPECT_EQ(rc, 0);
  EXPECT_TRUE(flagged.empty());
}

TEST(Regress, ASeedChangeAloneIsNotFlagged)
{
  Suite s;
  auto [rc, flagged] = s.regress("--first-seed 101");
  EXPECT_EQ(rc, 0);
  for (const auto& m : flagged)
    ADD_FAILURE() << m << " flagged by a change of seeds alone";
}

TEST(Regress, ABrokenMapIsFlaggedOnExactlyTheMetricsItAffects)
{
  // Swapping vCPUs 1 and 2 in guest A's map puts both of its jobs (vCPUs 0 and 1) on hctx0 and its 8 tags.
  Suite s;
  s.set_map("[0, 0, 1, 1]");
  auto [rc, flagged] = s.regress();
  EXPECT_EQ(rc, 1) << "a regression must fail the run";
  for (const auto& m : flagged)
    std::printf("[regress] flagged %s\n", m.c_str());
  for (const char* m : {"jobs.fio_a.iops", "jobs.fio_a.MBps", "jobs.fio_a.latency_us.mean", "jobs.fio_a.latency_us.p50",
                        "jobs.fio_a.latency_us.p99"})
    EXPECT_TRUE(flagged.count(m)) << m << " not flagged\n" << s.last_output();
  for (const auto& m : flagged) {
    bool guest_a = m.find("fio_a") != std::string::npos or m.find("cpus_a") != std::string::npos;
    EXPECT_TRUE(guest_a or m == "jobs.fairness") << m << " flagged, but guest B shares nothing with guest A";
  }
}

TEST(Regress, WithoutABaselineItSaysHowToMakeOne)
{
  TempDir dir;
  fs::create_directories(dir.path() / "suite");
  fs::copy_file(source_dir() + "/tests/data/regress/two-disks.json", dir.path() / "suite" / "two-disks.json");
  auto r = run_pvsim("regress --suite " + dir.file("suite"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("--update"), std::string::npos) << r.output;
}
