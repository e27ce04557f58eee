/* pvsim validate's leave-out modes end to end on a few real virtio-vm-1q traces (pvsim child processes, short
 * simulations): --hold-out predicts exactly the runs it matches from a calibration on the others and says so;
 * --kfold predicts every run once, repeats in one fold; --interval gives each held-out run a bootstrap interval,
 * the same on every run; a leave-out with --device is refused with exit 2 and writes nothing; calibrate --bootstrap
 * stores the resamples' parameters. */
#include "sim/scenario.hpp"
#include "tests/support/cli_support.hpp"

#include <filesystem>
#include <gtest/gtest.h>
#include <map>
#include <set>

using namespace pvsim;
using namespace pvsim::test;

namespace {

std::string trace(const std::string& name)
{
  return std::string(PVSIM_SHARED_DIR) + "/traces/virtio-vm-1q/fio/" + name + ".json";
}

std::string traces(const std::vector<std::string>& names)
{
  std::string out;
  for (const auto& n : names)
    out += " --trace " + trace(n);
  return out;
}

const std::vector<std::string> five{"randread_libaio_qd1_nj1_f1", "randread_libaio_qd1_nj1_f1_rep1",
                                    "randread_libaio_qd16_nj1_f1", "randread_libaio_qd16_nj1_f1_rep1",
                                    "randread_libaio_qd64_nj1_f1"};
const std::string fast = " --duration 0.05 --warmup 0.01 -q";

std::set<std::string> names_of(const json& list)
{
  std::set<std::string> s;
  for (const auto& x : list)
    s.insert(x.is_string() ? x.get<std::string>() : x["trace"].get<std::string>());
  return s;
}

} // namespace

TEST(LeaveOutCli, HoldOutPredictsExactlyTheMatchingRunsAndSaysSo)
{
  TempDir dir;
  auto res = run_pvsim("validate --hold-out 'iodepth>1'" + traces(five) + fast + " --json " + dir.file("v.json") +
                       " -o " + dir.file("rep"));
  ASSERT_EQ(res.exit_code, 0) << res.output;
  json v = read_json_file(dir.file("v.json"));
  EXPECT_EQ(names_of(v["runs"]),
            (std::set<std::string>{"randread_libaio_qd16_nj1_f1.json", "randread_libaio_qd16_nj1_f1_rep1.json",
                                   "randread_libaio_qd64_nj1_f1.json"}));
  EXPECT_EQ(v["mode"], "leave-out: iodepth>1");
  EXPECT_EQ(v["summary"]["mode"], "leave-out: iodepth>1");
  ASSERT_EQ(v["folds"].size(), 1u);
  EXPECT_EQ(names_of(v["folds"][0]["calibration"]),
            (std::set<std::string>{"randread_libaio_qd1_nj1_f1.json", "randread_libaio_qd1_nj1_f1_rep1.json"}));
  for (const auto& r : v["runs"]) {
    EXPECT_EQ(r["fold"], "iodepth>1");
    // qd64 has no repeat here and is judged against the pooled noise (qd1's and qd16's); qd16 has one repeat, and
    // its two runs' CV (one degree of freedom) is below the pooled one, which is then its floor.
    bool qd64 = r["trace"] == "randread_libaio_qd64_nj1_f1.json";
    EXPECT_EQ(r["noise"]["source"], qd64 ? "pooled" : "pooled floor") << r["trace"];
    EXPECT_TRUE(r["outside_noise"].is_boolean());
  }
  std::string report = read_file(dir.file("rep/report.md"));
  EXPECT_EQ(report.rfind("# pvsim validation (leave-out: iodepth>1)", 0), 0u) << report.substr(0, 200);
  EXPECT_NE(report.find("Side by side"), std::string::npos);
  EXPECT_NE(report.find("calibrated on 2 (randread_libaio_qd1_nj1_f1.json"), std::string::npos);
  json full = read_json_file(dir.file("rep/validation.json"));
  EXPECT_TRUE(full["summary"]["side_by_side"]["models"].contains("bound_interpolation"));
}

TEST(LeaveOutCli, KfoldPredictsEveryRunOnceWithItsRepeats)
{
  TempDir dir;
  auto res = run_pvsim("validate --kfold 2" + traces(five) + fast + " --json " + dir.file("v.json"));
  ASSERT_EQ(res.exit_code, 0) << res.output;
  json v = read_json_file(dir.file("v.json"));
  EXPECT_EQ(v["mode"], "leave-out: 2-fold by configuration");
  ASSERT_EQ(v["runs"].size(), five.size());
  std::map<std::string, std::string> fold;
  for (const auto& r : v["runs"])
    fold[r["trace"].get<std::string>()] = r["fold"].get<std::string>();
  EXPECT_EQ(fold["randread_libaio_qd16_nj1_f1.json"], fold["randread_libaio_qd16_nj1_f1_rep1.json"]);
  EXPECT_EQ(fold["randread_libaio_qd1_nj1_f1.json"], fold["randread_libaio_qd1_nj1_f1_rep1.json"]);
  for (const auto& f : v["folds"]) {
    auto cal = names_of(f["calibration"]);
    for (const auto& h : f["held_out"])
      EXPECT_EQ(cal.count(h.get<std::string>()), 0u) << h;
    EXPECT_EQ(cal.size() + f["held_out"].size(), five.size());
  }
}

TEST(LeaveOutCli, IntervalsAreBootstrappedAndDeterministic)
{
  TempDir dir;
  std::vector<std::string> three{five[0], five[1], five[2]};
  std::string args = "validate --hold-out iodepth=16 --interval 2" + traces(three) + fast + " --json ";
  auto a           = run_pvsim(args + dir.file("a.json"));
  ASSERT_EQ(a.exit_code, 0) << a.output;
  auto b = run_pvsim(args + dir.file("b.json"));
  ASSERT_EQ(b.exit_code, 0) << b.output;
  json v = read_json_file(dir.file("a.json"));
  ASSERT_EQ(v["runs"].size(), 1u);
  const json& in = v["runs"][0]["interval"];
  EXPECT_EQ(in["resamples"], 2);
  EXPECT_LE(in["iops"][0].get<double>(), in["iops"][1].get<double>());
  EXPECT_LE(in["clat_mean_us"][0].get<double>(), in["clat_mean_us"][1].get<double>());
  EXPECT_GT(in["iops"][0].get<double>(), 0);
  EXPECT_TRUE(v["summary"]["coverage"]["iops"].is_number());
  EXPECT_EQ(read_file(dir.file("a.json")), read_file(dir.file("b.json")));
}

TEST(LeaveOutCli, LeaveOutWithDeviceIsRefusedAndWritesNothing)
{
  TempDir dir;
  ASSERT_EQ(run_pvsim("calibrate --trace " + trace(five[0]) + " -o " + dir.file("d.json")).exit_code, 0);
  auto res = run_pvsim("validate --device " + dir.file("d.json") + " --hold-out 'iodepth>1'" + traces(five) + fast +
                       " --json " + dir.file("v.json") + " -o " + dir.file("rep"));
  EXPECT_EQ(res.exit_code, 2) << res.output;
  EXPECT_NE(res.output.find("a leave-out calibrates itself"), std::string::npos) << res.output;
  EXPECT_FALSE(std::filesystem::exists(dir.file("v.json")));
  EXPECT_FALSE(std::filesystem::exists(dir.file("rep")));
  auto kfold = run_pvsim("validate --device " + dir.file("d.json") + " --kfold 2" + traces(five) + fast);
  EXPECT_EQ(kfold.exit_code, 2) << kfold.output;
  auto unknown = run_pvsim("validate --hold-out 'numjob>1'" + traces(five) + fast + " --json " + dir.file("u.json"));
  EXPECT_EQ(unknown.exit_code, 2) << unknown.output;
  EXPECT_NE(unknown.output.find("did you mean 'numjobs'"), std::string::npos) << unknown.output;
  EXPECT_FALSE(std::filesystem::exists(dir.file("u.json")));
}

TEST(LeaveOutCli, CalibrateBootstrapStoresEachResamplesParameters)
{
  TempDir dir;
  std::vector<std::string> three{five[0], five[1], five[2]};
  auto res = run_pvsim("calibrate --bootstrap 3" + traces(three) + " -o " + dir.file("d.json"));
  ASSERT_EQ(res.exit_code, 0) << res.output;
  json d         = read_json_file(dir.file("d.json"));
  const json& un = d["uncertainty"];
  EXPECT_EQ(un["resamples"], 3);
  ASSERT_EQ(un["parameter sets"].size(), 3u);
  for (const auto& s : un["parameter sets"]) {
    EXPECT_EQ(s["configurations"].size(), 2u); // as many draws as configurations (qd1 with its repeat, qd16)
    EXPECT_TRUE(s["parameters"].contains("read")) << s.dump();
    EXPECT_TRUE(s["scenario_fragment"].contains("components"));
  }
  auto one = run_pvsim("calibrate --bootstrap 1" + traces(three) + " -o " + dir.file("e.json"));
  EXPECT_EQ(one.exit_code, 2) << one.output;
  EXPECT_FALSE(std::filesystem::exists(dir.file("e.json")));
}
