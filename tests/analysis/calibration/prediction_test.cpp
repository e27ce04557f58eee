/* pvsim predict: a configuration no trace measured, from a calibrated device file, with the interval of its bootstrap
 * parameter sets; bad inputs. */
#include "analysis/calibration/prediction.hpp"
#include "tests/support/cli_support.hpp"

#include <gtest/gtest.h>

#include <cstdio>

using namespace pvsim;
using namespace pvsim::test;

namespace {
std::string trace(const std::string& name)
{
  return " --trace " + std::string(PVSIM_SHARED_DIR) + "/traces/virtio-vm-1q/fio/" + name + ".json";
}
} // namespace

TEST(Predict, AnUnmeasuredConfigurationGetsAPredictionAndABootstrapInterval)
{
  TempDir dir;
  auto cal = run_pvsim("calibrate -q --bootstrap 4" + trace("randread_libaio_qd1_nj1_f1") +
                       trace("randread_libaio_qd1_nj1_f1_rep1") + trace("randread_libaio_qd16_nj1_f1") +
                       trace("randread_libaio_qd64_nj1_f1") + " -o " + dir.file("d.json"));
  ASSERT_EQ(cal.exit_code, 0) << cal.output;
  auto res = run_pvsim("predict -q --device " + dir.file("d.json") +
                       " --iodepth 32 --numjobs 2 --duration 0.2 --json " + dir.file("p.json"));
  ASSERT_EQ(res.exit_code, 0) << res.output;
  json p = read_json_file(dir.file("p.json"));
  EXPECT_EQ(p["stack"], "firecracker");
  EXPECT_EQ(p["configuration"]["numjobs"], 2);
  double iops = p["predicted"]["iops"].get<double>();
  EXPECT_GT(iops, 30000);
  ASSERT_TRUE(p["interval"].is_object()) << p.dump();
  EXPECT_EQ(p["interval"]["sets"], 4);
  EXPECT_LE(p["interval"]["iops"][0].get<double>(), p["interval"]["iops"][1].get<double>());
}

TEST(Predict, ADeviceFileWithoutParameterSetsHasNoInterval)
{
  TempDir dir;
  auto cal = run_pvsim("calibrate" + trace("randread_libaio_qd1_nj1_f1") + " -o " + dir.file("d.json"));
  ASSERT_EQ(cal.exit_code, 0) << cal.output;
  auto res = run_pvsim("predict --device " + dir.file("d.json") + " --iodepth 4 --duration 0.1");
  ASSERT_EQ(res.exit_code, 0) << res.output;
  EXPECT_NE(res.output.find("no interval"), std::string::npos) << res.output;
}

TEST(Predict, TheSimulatedScenarioCanBeWrittenAndRunAgain)
{
  // --scenario writes what predict simulated: the same run by `pvsim run` gives the same IOPS.
  TempDir dir;
  auto cal = run_pvsim("calibrate" + trace("randread_libaio_qd1_nj1_f1") + trace("randread_libaio_qd64_nj1_f1") +
                       " -o " + dir.file("d.json"));
  ASSERT_EQ(cal.exit_code, 0) << cal.output;
  auto res = run_pvsim("predict -q --device " + dir.file("d.json") + " --iodepth 8 --duration 0.1 --json " +
                       dir.file("p.json") + " --scenario " + dir.file("s.json"));
  ASSERT_EQ(res.exit_code, 0) << res.output;
  json sc = read_json_file(dir.file("s.json"));
  EXPECT_EQ(sc["components"]["fio"]["iodepth"], 8);
  EXPECT_EQ(sc["components"]["blkmq"]["scheduler"], "none");
  auto run = run_pvsim("run -q " + dir.file("s.json") + " -o " + dir.file("o"));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  double predicted = read_json_file(dir.file("p.json"))["predicted"]["iops"].get<double>();
  EXPECT_DOUBLE_EQ(read_json_file(dir.file("o/results.json"))["jobs"]["fio"]["iops"].get<double>(), predicted);
}

TEST(Predict, AMissingDeviceFileIsExit2)
{
  auto res = run_pvsim("predict --device /nonexistent/d.json --iodepth 4");
  EXPECT_EQ(res.exit_code, 2) << res.output;
}

TEST(Predict, BackgroundCpusLoadTheGuestOfTheSimulatedScenario)
{
  // Calibrated on a quiet and a loaded iodepth-1 run: the guest's background waits are fitted, and --background-cpus
  // says how much of that load the predicted run has.
  TempDir dir;
  auto cal =
      run_pvsim("calibrate -q" + trace("randread_libaio_qd1_nj1_f1_quiet") + trace("randread_libaio_qd1_nj1_f1_rep2") +
                trace("randread_libaio_qd64_nj1_f1_rep1") + " -o " + dir.file("d.json"));
  ASSERT_EQ(cal.exit_code, 0) << cal.output;
  ASSERT_TRUE(read_json_file(dir.file("d.json")).contains("guest_load"));
  auto res =
      run_pvsim("predict -q --device " + dir.file("d.json") + " --iodepth 16 --duration 0.1 --background-cpus 1" +
                " --json " + dir.file("p.json") + " --scenario " + dir.file("s.json"));
  ASSERT_EQ(res.exit_code, 0) << res.output;
  EXPECT_EQ(read_json_file(dir.file("p.json"))["configuration"]["background_cpus"], 1.0);
  json guest = read_json_file(dir.file("s.json"))["components"]["guest"];
  EXPECT_EQ(guest["background_cpus"], 1.0);
  EXPECT_TRUE(guest.contains("background_preempt_rate"));
}

TEST(Predict, BackgroundCpusBeyondTheGuestsVcpusIsExit2)
{
  TempDir dir;
  auto cal = run_pvsim("calibrate -q" + trace("randread_libaio_qd1_nj1_f1") + " -o " + dir.file("d.json"));
  ASSERT_EQ(cal.exit_code, 0) << cal.output;
  auto res = run_pvsim("predict --device " + dir.file("d.json") + " --background-cpus 3");
  EXPECT_EQ(res.exit_code, 2);
  EXPECT_NE(res.output.find("--background-cpus"), std::string::npos) << res.output;
  EXPECT_NE(res.output.find("expected 0 to 2 CPUs"), std::string::npos) << res.output;
}

namespace {
/** A device file's baselines alone: R1 = 100 us at iodepth 1, the host saturating at 100 k IOPS (reads only). */
json reads_only_device()
{
  return json{{"baselines", {{"read", {{"r1_us", 100.0}, {"xmax_iops", 100000.0}}}}}};
}
prediction::Options configuration(int iodepth, int numjobs, const std::string& engine = "libaio",
                                  const std::string& rw = "randread")
{
  prediction::Options o;
  o.iodepth = iodepth;
  o.numjobs = numjobs;
  o.engine  = engine;
  o.rw      = rw;
  return o;
}
} // namespace

TEST(Predict, WithoutADurationASlowConfigurationSimulatesFiveTenSecondRuns)
{
  // iodepth 1: 1 / R1 = 10 k IOPS, so 2 M requests would take 200 s: five 10 s runs (50 s) come first.
  auto o = configuration(1, 1);
  std::printf("expected 50 s (fitted) and 10 s (each bootstrap set)\n");
  EXPECT_DOUBLE_EQ(prediction::run_length_s(o, reads_only_device(), false), 50.0);
  EXPECT_DOUBLE_EQ(prediction::run_length_s(o, reads_only_device(), true), 10.0);
}

TEST(Predict, WithoutADurationAFastConfigurationSimulatesTwoMillionRequestsAtTheBoundFormulasRate)
{
  // 128 in flight: X = 128 / (R1 + 127 / X_sat) = 128 / 1.37 ms = 93.4 k IOPS; 2 M requests take 21.4 s.
  auto o          = configuration(64, 2);
  double expected = 2e6 / (128 / (100e-6 + 127 / 1e5));
  std::printf("expected %.4f s (fitted) and %.4f s (each set), tolerance 1e-9\n", expected, expected / 5);
  EXPECT_NEAR(prediction::run_length_s(o, reads_only_device(), false), expected, 1e-9);
  EXPECT_NEAR(prediction::run_length_s(o, reads_only_device(), true), expected / 5, 1e-9);
}

TEST(Predict, ASynchronousEngineKeepsOneRequestInFlightPerJobWhateverItsIodepth)
{
  auto o = configuration(64, 1, "psync");
  EXPECT_DOUBLE_EQ(prediction::run_length_s(o, reads_only_device(), false), 50.0);
}

TEST(Predict, WithoutADurationNoRunIsShorterThanOneSecond)
{
  json fast = {{"baselines", {{"read", {{"r1_us", 1.0}, {"xmax_iops", 5e6}}}}}}; // ~4.7 M IOPS at 64 in flight
  auto o    = configuration(64, 1);
  EXPECT_DOUBLE_EQ(prediction::run_length_s(o, fast, false), prediction::min_run_s);
  EXPECT_DOUBLE_EQ(prediction::run_length_s(o, fast, true), prediction::min_run_s);
}

TEST(Predict, WithoutBaselinesForItsDirectionAPredictionSimulatesOneTenSecondRun)
{
  auto o = configuration(16, 1, "libaio", "randwrite"); // the device has read baselines only
  EXPECT_DOUBLE_EQ(prediction::run_length_s(o, reads_only_device(), false), prediction::reference_runtime_s);
  EXPECT_DOUBLE_EQ(prediction::run_length_s(o, reads_only_device(), true), prediction::reference_runtime_s / 5);
}

TEST(Predict, AGivenDurationIsEveryRunsLength)
{
  auto o       = configuration(1, 1);
  o.duration_s = 0.3;
  EXPECT_DOUBLE_EQ(prediction::run_length_s(o, reads_only_device(), false), 0.3);
  EXPECT_DOUBLE_EQ(prediction::run_length_s(o, reads_only_device(), true), 0.3);
}

TEST(Predict, ThePredictionSaysHowLongItSimulated)
{
  TempDir dir;
  auto cal = run_pvsim("calibrate -q" + trace("randread_libaio_qd1_nj1_f1") + trace("randread_libaio_qd16_nj1_f1") +
                       " -o " + dir.file("d.json"));
  ASSERT_EQ(cal.exit_code, 0) << cal.output;
  auto res =
      run_pvsim("predict --device " + dir.file("d.json") + " --iodepth 4 --duration 0.2 --json " + dir.file("p.json"));
  ASSERT_EQ(res.exit_code, 0) << res.output;
  EXPECT_NE(res.output.find("(0.2 simulated s)"), std::string::npos) << res.output;
  json p = read_json_file(dir.file("p.json"));
  EXPECT_DOUBLE_EQ(p["simulated_s"]["fitted"].get<double>(), 0.2);
}
