/* The load other processes put on the guest during each traced run (summary.csv `foreign_cpus`), and validate's
 * errors split into quiet and loaded runs by it. */
#include "analysis/calibration/bundle.hpp"
#include "analysis/calibration/bundle_scenario.hpp"
#include "analysis/calibration/calibration.hpp"
#include "analysis/calibration/calibration_summary.hpp"
#include "analysis/calibration/guest_load.hpp"
#include "sim/input_error.hpp"
#include "tests/support/cli_support.hpp"

#include <filesystem>
#include <gtest/gtest.h>

using namespace pvsim;
using namespace pvsim::test;

namespace {
std::string shared_trace(const std::string& name)
{
  return std::string(PVSIM_SHARED_DIR) + "/traces/virtio-vm-1q/fio/" + name + ".json";
}
} // namespace

TEST(GuestLoad, TheSharedTracesSummaryGivesEachRecordedRunsForeignCpus)
{
  std::vector<std::string> traces;
  for (auto& e : std::filesystem::directory_iterator(std::string(PVSIM_SHARED_DIR) + "/traces/virtio-vm-1q/fio"))
    traces.push_back(e.path().string());
  auto load = validation::guest_load_of(traces);
  EXPECT_EQ(load.size(), 22u); // the first session's 7 runs did not record it
  EXPECT_DOUBLE_EQ(load.at("randread_libaio_qd16_nj1_f1_quiet.json"), 0.01);
  EXPECT_DOUBLE_EQ(load.at("randread_libaio_qd16_nj1_f1_ftrace5s.json"), 0.91);
  EXPECT_DOUBLE_EQ(load.at("randread_libaio_qd256_nj1_f1_extra.json"), 0.77);
  EXPECT_EQ(load.count("randread_libaio_qd16_nj1_f1.json"), 0u);
  // One trace is enough to find its directory's summary; a trace elsewhere has none.
  EXPECT_EQ(validation::guest_load_of({shared_trace("randread_libaio_qd1_nj1_f1_rep2")}).size(), 22u);
  TempDir dir;
  std::filesystem::create_directories(dir.path() / "fio");
  EXPECT_TRUE(validation::guest_load_of({dir.write("fio/a.json", "{}")}).empty());
}

TEST(GuestLoad, ValidateSplitsTheMedianErrorsIntoQuietAndLoadedRuns)
{
  auto run = [](const std::string& trace, double iops, double mean, double p99) {
    return json{{"trace", trace}, {"error_pct", {{"iops", iops}, {"clat_mean_us", mean}, {"clat_p99_us", p99}}}};
  };
  json full = {{"runs",
                {run("q1.json", 2, -4, 10), run("q2.json", -6, 8, -30), run("l1.json", 20, -10, -60),
                 run("l2.json", 12, 5, -40), run("l3.json", -1, 1, 90), run("u.json", 50, 50, 50)}},
               {"summary", json::object()}};
  validation::add_guest_load(
      full, {{"q1.json", 0.01}, {"q2.json", 0.0}, {"l1.json", 0.85}, {"l2.json", 0.1}, {"l3.json", 0.4}});
  const json& g = full["summary"]["by_guest_load"];
  EXPECT_DOUBLE_EQ(g["loaded_above_cpus"].get<double>(), 0.1);
  EXPECT_EQ(g["quiet"]["runs"], 2);
  EXPECT_EQ(g["loaded"]["runs"], 3); // 0.1 CPU counts as loaded
  EXPECT_EQ(g["unknown"], 1);
  EXPECT_DOUBLE_EQ(g["quiet"]["median_abs_error_pct"]["iops"].get<double>(), 4);         // |2|, |-6|
  EXPECT_DOUBLE_EQ(g["quiet"]["median_abs_error_pct"]["clat_p99_us"].get<double>(), 20); // |10|, |-30|
  EXPECT_DOUBLE_EQ(g["loaded"]["median_abs_error_pct"]["iops"].get<double>(), 12);       // 1, 12, 20
  EXPECT_DOUBLE_EQ(g["loaded"]["median_abs_error_pct"]["clat_mean_us"].get<double>(), 5);
  EXPECT_DOUBLE_EQ(g["loaded"]["median_abs_error_pct"]["clat_p99_us"].get<double>(), 60);
  EXPECT_DOUBLE_EQ(full["runs"][2]["foreign_cpus"].get<double>(), 0.85);
  EXPECT_FALSE(full["runs"][5].contains("foreign_cpus"));
  // Traces without any record: no split at all.
  json none = {{"runs", {run("u.json", 1, 1, 1)}}, {"summary", json::object()}};
  validation::add_guest_load(none, {});
  EXPECT_FALSE(none["summary"].contains("by_guest_load"));
}

TEST(GuestLoad, AValueThatIsNotACountOfCpusNamesTheFileTheLineAndTheColumn)
{
  TempDir dir;
  std::filesystem::create_directories(dir.path() / "fio");
  std::string trace = dir.write("fio/r1.json", "{}");
  dir.write("summary.csv", "run,iops,foreign_cpus\nr0,100,0.5\nr1,100,lots\n");
  try {
    validation::guest_load_of({trace});
    FAIL() << "a bad foreign_cpus was accepted";
  } catch (const InputError& e) {
    EXPECT_EQ(e.file(), dir.file("summary.csv"));
    EXPECT_NE(e.where().find("line 3"), std::string::npos) << e.where();
    EXPECT_NE(e.where().find("foreign_cpus"), std::string::npos) << e.where();
    EXPECT_NE(e.detail().find("'lots'"), std::string::npos) << e.detail();
  }
  dir.write("summary.csv", "run,iops,foreign_cpus\nr0,100,-1\n");
  EXPECT_THROW(validation::guest_load_of({trace}), InputError);
  dir.write("summary.csv", "run,iops\nr0,100\n"); // another kind of summary: nothing, no error
  EXPECT_TRUE(validation::guest_load_of({trace}).empty());
}

namespace {
std::vector<std::string> shared_traces()
{
  std::vector<std::string> traces;
  for (auto& e : std::filesystem::directory_iterator(std::string(PVSIM_SHARED_DIR) + "/traces/virtio-vm-1q/fio"))
    traces.push_back(e.path().string());
  std::sort(traces.begin(), traces.end());
  return traces;
}

std::vector<std::string> shared_qd1_traces()
{
  std::vector<std::string> qd1;
  for (auto& t : shared_traces())
    if (t.find("_qd1_") != std::string::npos)
      qd1.push_back(t);
  return qd1;
}
} // namespace

TEST(GuestLoad, CalibrateFitsTheHostOnTheQuietRunsAndTheGuestsBackgroundOnWhatTheLoadedRunsHaveBeyondIt)
{
  // The iodepth-1 runs alone: nothing at depth tells whether the loaded tail costs the job its throughput.
  json dev = calibration::calibrate(shared_qd1_traces());
  // The iodepth-1 libaio runs: three quiet (0.01 CPU), one loaded (rep2, 0.92 CPU), one unrecorded (left out).
  EXPECT_EQ(dev["preemption"]["from"],
            json({"randread_libaio_qd1_nj1_f1_quiet.json", "randread_libaio_qd1_nj1_f1_rep1.json",
                  "randread_libaio_qd1_nj1_f1_rep3.json"}));
  const json& g = dev["guest_load"];
  EXPECT_EQ(g["from"], json({"randread_libaio_qd1_nj1_f1_rep2.json"}));
  EXPECT_DOUBLE_EQ(g["mean_foreign_cpus"].get<double>(), 0.92);
  EXPECT_FALSE(g.contains("at_depth"));
  // rate = (rep2's tail share / its median - the quiet runs' rate) / 0.92, and it is what the guest is given.
  double host = dev["preemption"]["rate_hz"].get<double>();
  EXPECT_DOUBLE_EQ(g["host_rate_hz"].get<double>(), host);
  double rate = g["background_preempt_rate_hz"].get<double>();
  EXPECT_GT(rate, 0);
  EXPECT_EQ(dev["scenario_fragment"]["components"]["guest"]["background_preempt_rate"], std::to_string(rate) + "Hz");
  EXPECT_EQ(dev["scenario_fragment"]["components"]["guest"]["background_preempt_duration"]["dist"], "empirical");
  // A run that does not record its load gets the mean of those that do.
  double sum = 0;
  int n      = 0;
  for (auto& [run, cpus] : validation::guest_load_of(shared_qd1_traces()))
    if (run.find("_qd1_") != std::string::npos)
      sum += cpus, ++n;
  EXPECT_EQ(n, 5); // libaio quiet, rep1-3 and psync quiet
  EXPECT_NEAR(g["unrecorded_run_cpus"].get<double>(), sum / n, 1e-12);
}

TEST(GuestLoad, LoadedRunsAtDepthNoSlowerThanTheirQuietRepeatsBeyondTheNoiseFlagTheWait)
{
  // All 29 runs: at iodepth 16 the loaded runs are 12 % faster than the quiet ones, at 64 7 % slower; together
  // 2 % faster, where the runs' noise is 8 %. The waits the loaded iodepth-1 tail gives are kept, with a caution.
  json dev      = calibration::calibrate(shared_traces());
  const json& g = dev["guest_load"];
  const json& d = g["at_depth"];
  ASSERT_EQ(d["configurations"].size(), 2u) << d.dump();
  EXPECT_EQ(d["configurations"][0]["configuration"], "randread libaio qd16 nj1 f1 bs4096");
  EXPECT_NEAR(d["configurations"][0]["ratio"].get<double>(), 70473.6 / 63025.0, 1e-4);
  EXPECT_NEAR(d["configurations"][1]["ratio"].get<double>(), 96810.3 / 103918.2, 1e-4);
  EXPECT_NEAR(d["iops_ratio"].get<double>(), 1.0206, 1e-4);
  EXPECT_GT(d["pooled_iops_cv"].get<double>(), 0.05);
  EXPECT_GT(g["background_preempt_rate_hz"].get<double>(), 0);
  EXPECT_NE(g["caution"].get<std::string>().find("no slower than their quiet repeats"), std::string::npos);
  EXPECT_NE(calibration::summary_text(dev, "d.json").find("  caution: the loaded runs at depth"), std::string::npos);
}

TEST(GuestLoad, LoadedRunsAtDepthSlowerThanTheirQuietRepeatsBeyondTheNoiseRaiseNoCaution)
{
  // The same real runs with the iodepth-64 loads recorded otherwise: the two fastest quiet (108.6 k, 107.9 k), the
  // two slowest loaded (85.0 k, 100.0 k): 15 % slower, beyond the 11 % CV of the four.
  TempDir dir;
  std::filesystem::create_directories(dir.file("fio"));
  std::vector<std::string> traces;
  std::string csv = "run,foreign_cpus\n";
  for (auto& [name, cpus] :
       std::vector<std::pair<std::string, const char*>>{{"randread_libaio_qd64_nj1_f1", "0.01"},
                                                        {"randread_libaio_qd64_nj1_f1_quiet", "0.01"},
                                                        {"randread_libaio_qd64_nj1_f1_rep2", "0.9"},
                                                        {"randread_libaio_qd64_nj1_f1_rep3", "0.9"},
                                                        {"randread_libaio_qd1_nj1_f1_quiet", "0.01"},
                                                        {"randread_libaio_qd1_nj1_f1_rep1", "0.01"},
                                                        {"randread_libaio_qd1_nj1_f1_rep3", "0.01"},
                                                        {"randread_libaio_qd1_nj1_f1_rep2", "0.92"}}) {
    std::filesystem::copy_file(shared_trace(name), dir.file("fio/" + name + ".json"));
    traces.push_back(dir.file("fio/" + name + ".json"));
    csv += name + "," + cpus + "\n";
  }
  dir.write("summary.csv", csv);
  json dev      = calibration::calibrate(traces);
  const json& g = dev["guest_load"];
  EXPECT_NEAR(g["at_depth"]["iops_ratio"].get<double>(), (85035.1 + 99969.6) / (108628.8 + 107866.7), 1e-4);
  EXPECT_LT(g["at_depth"]["iops_ratio"].get<double>(), 1 - g["at_depth"]["pooled_iops_cv"].get<double>());
  EXPECT_GT(g["background_preempt_rate_hz"].get<double>(), 0) << g.dump();
  EXPECT_FALSE(g.contains("caution"));
  EXPECT_EQ(calibration::summary_text(dev, "d.json").find("caution"), std::string::npos);
}

TEST(GuestLoad, WithoutBothQuietAndLoadedRunsTheTailIsTheHostsAlone)
{
  // Only quiet iodepth-1 runs: nothing to tell the guest's part from the host's.
  json dev = calibration::calibrate({shared_trace("randread_libaio_qd1_nj1_f1_quiet"),
                                     shared_trace("randread_libaio_qd1_nj1_f1_rep3"),
                                     shared_trace("randread_libaio_qd64_nj1_f1_rep1")});
  EXPECT_TRUE(dev.contains("preemption"));
  EXPECT_FALSE(dev.contains("guest_load"));
  EXPECT_FALSE(dev["scenario_fragment"]["components"].contains("guest"));
}

TEST(GuestLoad, QuietRunsWithTooFewTailLatenciesToFitTheHostLeaveTheWholeTailToTheHost)
{
  // A copy of the quiet iodepth-1 run with all but 5 of its latencies above 10x the median taken out of its json+
  // bins, beside the loaded rep2: the quiet tail cannot give the host's rate (10 latencies are needed), so there is
  // no split: the host's preemption comes from both runs' tail, and the guest gets no background fit.
  TempDir dir;
  std::filesystem::create_directories(dir.file("fio"));
  json quiet    = read_json_file(shared_trace("randread_libaio_qd1_nj1_f1_quiet"));
  json& clat    = quiet["jobs"][0]["read"]["clat_ns"];
  double median = clat["percentile"]["50.000000"].get<double>();
  json kept     = json::object();
  int tail      = 0;
  for (auto& [ns, count] : clat["bins"].items())
    if (std::stod(ns) <= 10 * median)
      kept[ns] = count;
    else if (tail < 5)
      kept[ns] = 1, ++tail;
  ASSERT_EQ(tail, 5) << "the real run has a tail to cut";
  clat["bins"] = kept;
  dir.write("fio/quiet.json", quiet.dump());
  std::filesystem::copy_file(shared_trace("randread_libaio_qd1_nj1_f1_rep2"), dir.file("fio/loaded.json"));
  dir.write("summary.csv", "run,foreign_cpus\nquiet,0.01\nloaded,0.92\n");
  json dev = calibration::calibrate({dir.file("fio/quiet.json"), dir.file("fio/loaded.json")});
  EXPECT_EQ(dev["preemption"]["from"], json({"quiet.json", "loaded.json"})) << dev["preemption"].dump();
  EXPECT_FALSE(dev.contains("guest_load"));
  EXPECT_FALSE(dev["scenario_fragment"]["components"].contains("guest"));
  // With the real quiet tail (hundreds of latencies) the same two runs split.
  std::filesystem::copy_file(shared_trace("randread_libaio_qd1_nj1_f1_quiet"), dir.file("fio/quiet.json"),
                             std::filesystem::copy_options::overwrite_existing);
  json split = calibration::calibrate({dir.file("fio/quiet.json"), dir.file("fio/loaded.json")});
  EXPECT_EQ(split["preemption"]["from"], json({"quiet.json"}));
  EXPECT_EQ(split["guest_load"]["from"], json({"loaded.json"}));
}

TEST(GuestLoad, EachSimulatedRunGetsItsRecordedLoadElseTheCalibrationsMean)
{
  json dev   = calibration::calibrate(shared_traces());
  auto facts = calibration::run_facts(readers::read_fio_json(shared_trace("randread_libaio_qd16_nj1_f1_rep1"))).front();
  facts.foreign_cpus = 0.85;
  json g             = calibration::scenario_for_run(dev, facts, 0.1, 0.01, 1)["components"]["guest"];
  EXPECT_DOUBLE_EQ(g["background_cpus"].get<double>(), 0.85);
  EXPECT_EQ(g["background_preempt_rate"], dev["scenario_fragment"]["components"]["guest"]["background_preempt_rate"]);
  facts.foreign_cpus.reset();
  g = calibration::scenario_for_run(dev, facts, 0.1, 0.01, 1)["components"]["guest"];
  EXPECT_DOUBLE_EQ(g["background_cpus"].get<double>(), dev["guest_load"]["unrecorded_run_cpus"].get<double>());
  // A device file fitted without recorded loads leaves the guest quiet.
  dev.erase("guest_load");
  dev["scenario_fragment"]["components"].erase("guest");
  g = calibration::scenario_for_run(dev, facts, 0.1, 0.01, 1)["components"]["guest"];
  EXPECT_FALSE(g.contains("background_cpus"));
  EXPECT_FALSE(g.contains("background_preempt_rate"));
}

TEST(GuestLoad, AXenBundlesDomUGetsTheRunsLoadToo)
{
  // The Xen stack rebuilds its guest as domU: the background load and its fitted waits go with it.
  json dev         = calibration::calibrate(shared_traces());
  bundle::Bundle b = bundle::read_bundle(source_dir() + "/tests/data/lab/xen-blk-q4");
  ASSERT_FALSE(b.runs.empty());
  auto facts         = calibration::run_facts(readers::read_fio_json(b.runs.front().file)).front();
  facts.foreign_cpus = 0.5;
  std::vector<std::string> notes;
  json comps =
      bundle::scenario_for_bundle_run(dev, b, b.runs.front(), dev["guest"], facts, 0.1, 0.01, 1, notes)["components"];
  ASSERT_TRUE(comps.contains("domU")) << comps.dump();
  EXPECT_DOUBLE_EQ(comps["domU"]["background_cpus"].get<double>(), 0.5);
  EXPECT_EQ(comps["domU"]["background_preempt_rate"],
            dev["scenario_fragment"]["components"]["guest"]["background_preempt_rate"]);
}
