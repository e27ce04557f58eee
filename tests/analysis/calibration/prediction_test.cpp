/* pvsim predict: a configuration no trace measured, from a calibrated device file, with the interval of its bootstrap
 * parameter sets; bad inputs. */
#include "tests/support/cli_support.hpp"

#include <gtest/gtest.h>

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
