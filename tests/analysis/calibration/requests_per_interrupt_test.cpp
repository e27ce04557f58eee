/* Requests per interrupt (analysis/calibration/requests_per_interrupt.hpp): measured from a bundle's
 * /proc/interrupts snapshots around each run (the second Firecracker host's, tests/data/real), simulated from a
 * results.json's virtqueues. */
#include "analysis/calibration/requests_per_interrupt.hpp"
#include "analysis/readers/fio_json.hpp"
#include "sim/input_error.hpp"
#include "tests/support/json_support.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

using namespace pvsim;
using namespace pvsim::test;

namespace {
calibration::RunFacts second_host_run(const std::string& name)
{
  std::string file = source_dir() + "/tests/data/real/firecracker-2vcpu-20261205/bundle/fio/" + name + ".json";
  return calibration::run_facts(readers::read_fio_json(file)).front();
}
} // namespace

TEST(RequestsPerInterrupt, AtIodepth1EveryRequestIsOneInterrupt)
{
  // 18.0 k IOPS over 8 s and the 2 s ramp: 180.5 k requests, 180.4 k interrupts on virtio1-req.0.
  auto m = calibration::measured_interrupts(second_host_run("randread_libaio_qd1_nj1"));
  ASSERT_TRUE(m.has_value());
  std::printf("[check] iodepth 1: %.0f interrupts for %.0f requests: %.3f per interrupt (expected 1, tolerance "
              "0.01)\n",
              m->interrupts, m->requests, m->per_interrupt());
  EXPECT_NEAR(m->per_interrupt(), 1.0, 0.01);
}

TEST(RequestsPerInterrupt, ThePassPingPongReturnsTheWholeBatchInFlight)
{
  // That host's VMM returns what is in flight at once: 16 and 2 x 4 requests per interrupt, within 3 %.
  for (auto [name, in_flight] : {std::pair<const char*, double>{"randread_libaio_qd16_nj1", 16.0},
                                 std::pair<const char*, double>{"randread_libaio_qd4_nj2", 8.0}}) {
    auto m = calibration::measured_interrupts(second_host_run(name));
    ASSERT_TRUE(m.has_value()) << name;
    std::printf("[check] %s: %.2f requests per interrupt (expected %.0f, tolerance 3 %%)\n", name, m->per_interrupt(),
                in_flight);
    EXPECT_NEAR(m->per_interrupt(), in_flight, 0.03 * in_flight) << name;
  }
}

TEST(RequestsPerInterrupt, ARunWithoutSnapshotsHasNoMeasurement)
{
  // The shared traces keep no /proc/interrupts beside their fio results.
  std::string file = std::string(PVSIM_SHARED_DIR) + "/traces/virtio-vm-1q/fio/randread_libaio_qd16_nj1_f1.json";
  EXPECT_FALSE(calibration::measured_interrupts(calibration::run_facts(readers::read_fio_json(file)).front()));
}

TEST(RequestsPerInterrupt, ASnapshotThatIsNotProcInterruptsIsAnError)
{
  TempDir dir;
  std::filesystem::create_directories(dir.file("bundle/fio"));
  std::filesystem::create_directories(dir.file("bundle/interrupts"));
  std::string src = source_dir() + "/tests/data/real/firecracker-2vcpu-20261205/bundle";
  std::filesystem::copy_file(src + "/fio/randread_libaio_qd1_nj1.json", dir.file("bundle/fio/run.json"));
  std::filesystem::copy_file(src + "/interrupts/randread_libaio_qd1_nj1.after.txt",
                             dir.file("bundle/interrupts/run.after.txt"));
  std::ofstream(dir.file("bundle/interrupts/run.before.txt")) << "not a snapshot\n";
  auto f = calibration::run_facts(readers::read_fio_json(dir.file("bundle/fio/run.json"))).front();
  EXPECT_THROW(calibration::measured_interrupts(f), InputError);
}

TEST(RequestsPerInterrupt, TheSimulatedFigureIsCompletedRequestsOverVirtqueueInterrupts)
{
  json results = {{"components",
                   {{"fio", {{"completed", 1200}}},
                    {"vda", {{"virtqueues", json::array({{{"interrupts", 100}}, {{"interrupts", 50}}})}}}}}};
  auto p       = calibration::simulated_requests_per_interrupt(results);
  ASSERT_TRUE(p.has_value());
  EXPECT_DOUBLE_EQ(*p, 8.0);
  results["components"]["vda"]["virtqueues"] = json::array();
  EXPECT_FALSE(calibration::simulated_requests_per_interrupt(results));
}

TEST(RequestsPerInterrupt, TheReportSetsMeasuredAndSimulatedSideBySide)
{
  // validate's report.md: a row per run with both figures, and their median difference.
  TempDir dir;
  std::string b = source_dir() + "/tests/data/real/firecracker-2vcpu-20261205/bundle/fio/";
  std::string traces;
  for (const char* run : {"randread_libaio_qd1_nj1", "randread_libaio_qd4_nj1", "randread_libaio_qd16_nj1"})
    traces += std::string(" --trace ") + b + run + ".json";
  auto r = run_pvsim("validate -q --hold-out 'iodepth>4'" + traces + " -o " + dir.file("report"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::string md = read_file(dir.file("report/report.md"));
  EXPECT_NE(md.find("## Requests per interrupt"), std::string::npos);
  EXPECT_NE(md.find("| randread_libaio_qd16_nj1.json | 16 | 15.7 |"), std::string::npos) << md;
  EXPECT_NE(md.find("Median |pvsim - measured| / measured:"), std::string::npos);
}
