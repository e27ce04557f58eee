/* Idle vCPUs on real runs (tests/data/real/pvm-idle-busy-20261207, its README): a 2-vCPU Firecracker guest under PVM
 * whose I/O halves when a SCHED_IDLE task keeps its vCPUs from halting. calibrate takes the machine's measured wake-up
 * latencies (vcpu_wake.json beside the runs) into guest.vm, and the busy guest's iodepth-1 runs, which no calibration
 * saw, come out of the idle ones: each I/O's interrupt and fio's wake-up find a running vCPU and pay its kick. */
#include "tests/support/json_support.hpp"

#include <gtest/gtest.h>

#include <filesystem>

using namespace pvsim;
using namespace pvsim::test;

namespace {
std::string data_dir()
{
  return source_dir() + "/tests/data/real/pvm-idle-busy-20261207";
}

/** Mean IOPS of busy/fio_<qd>_<kind>_<1..3>.json. */
double measured_iops(int qd, const std::string& kind)
{
  double sum = 0;
  for (int rep = 1; rep <= 3; ++rep) {
    json j = read_json_file(data_dir() + "/busy/fio_" + std::to_string(qd) + "_" + kind + "_" + std::to_string(rep) +
                            ".json");
    sum += j["jobs"][0]["read"]["iops"].get<double>();
  }
  return sum / 3;
}

/** The iodepth-1 IOPS pvsim gives the calibrated device with `background_cpus` of SCHED_IDLE tasks (they take no CPU
 * from the I/O: no background waits), and with the device's idle-vCPU latencies or with none. */
double simulated_iops(const TempDir& dir, const std::string& device, double background_cpus, bool latencies)
{
  std::string sc = dir.file("qd1.json");
  auto p         = run_pvsim("predict -q --device " + device + " --iodepth 1 --duration 2 --scenario " + sc);
  EXPECT_EQ(p.exit_code, 0) << p.output;
  std::string sets = " --set components.guest.background_cpus=" + std::to_string(background_cpus) +
                     " --set components.guest.background_preempt_rate=0Hz";
  if (not latencies)
    sets += " --set components.guest.halt_wake_latency=0us --set components.guest.busy_kick_latency=0us";
  std::string out = dir.file("out");
  std::filesystem::remove_all(out);
  auto r = run_pvsim("run -q " + sc + sets + " -o " + out);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return read_json_file(out + "/results.json")["jobs"]["fio"]["iops"].get<double>();
}
} // namespace

TEST(IdleVcpus, CalibrateTakesTheMachinesMeasuredWakeUpLatencies)
{
  TempDir dir;
  auto r = run_pvsim("calibrate --stack firecracker" + trace_args(data_dir() + "/fio") + " -o " + dir.file("d.json"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("idle vCPUs (measured"), std::string::npos) << r.output;
  json d = read_json_file(dir.file("d.json"));
  json w = read_json_file(data_dir() + "/vcpu_wake.json");
  EXPECT_DOUBLE_EQ(d["vcpu_wake"]["halt_wake_latency_us"].get<double>(), w["halt_wake_latency_us"].get<double>());
  EXPECT_DOUBLE_EQ(d["vcpu_wake"]["busy_kick_latency_us"].get<double>(), w["busy_kick_latency_us"].get<double>());
  const json& g = d["scenario_fragment"]["components"]["guest"];
  EXPECT_EQ(g["busy_kick_latency"], std::to_string(w["busy_kick_latency_us"].get<double>()) + "us");
  EXPECT_EQ(g["halt_wake_latency"], std::to_string(w["halt_wake_latency_us"].get<double>()) + "us");
}

TEST(IdleVcpus, ABusyGuestsIodepth1RunsArePredictedFromTheIdleOnes)
{
  TempDir dir;
  auto r =
      run_pvsim("calibrate -q --stack firecracker" + trace_args(data_dir() + "/fio") + " -o " + dir.file("d.json"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  double idle_real = measured_iops(1, "idle"), busy_real = measured_iops(1, "busy");
  double idle_sim   = simulated_iops(dir, dir.file("d.json"), 0, true);
  double busy_sim   = simulated_iops(dir, dir.file("d.json"), 2, true);
  double busy_naive = simulated_iops(dir, dir.file("d.json"), 2, false);
  std::printf("[check] iodepth 1, IOPS: idle %.0f simulated vs %.0f measured; busy %.0f simulated vs %.0f measured "
              "(tolerance 15 %%); busy without the idle-vCPU latencies %.0f (expected above 1.5 x the measured)\n",
              idle_sim, idle_real, busy_sim, busy_real, busy_naive);
  EXPECT_NEAR(idle_sim / idle_real, 1, 0.15);
  EXPECT_NEAR(busy_sim / busy_real, 1, 0.15);
  EXPECT_GT(busy_naive, 1.5 * busy_real) << "without the kicks a busy guest is as fast as an idle one";
}

TEST(IdleVcpus, AVcpuWakeFileThatIsNotTheToolsOutputIsBadInput)
{
  TempDir dir;
  std::filesystem::create_directories(dir.path() / "fio");
  std::filesystem::copy_file(data_dir() + "/fio/randread_libaio_qd1_nj1_f1_rep1.json",
                             dir.path() / "fio/randread_libaio_qd1_nj1_f1_rep1.json");
  dir.write("vcpu_wake.json",
            R"({"tool": "pvsim vcpu_wake", "halt_wake_latency_us": "thirty", "busy_kick_latency_us": 20})");
  auto r = run_pvsim("calibrate" + trace_args(dir.file("fio")) + " -o " + dir.file("d.json"));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("vcpu_wake.json"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("/halt_wake_latency_us"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir.file("d.json")));
  dir.write("vcpu_wake.json", R"({"halt_wake_latency_us": 30, "busy_kick_latency_us": 20})");
  r = run_pvsim("calibrate" + trace_args(dir.file("fio")) + " -o " + dir.file("d.json"));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("/tool"), std::string::npos) << r.output;
}
