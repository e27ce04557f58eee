/* A calibration that saw writes simulates a write-only run with the writes' own fit (device.json
 * scenario_fragment.write): the guest's CPU costs and, on Firecracker, the host's time, which the Sync engine spends on
 * the VMM thread; a write direction without deep runs takes the reads' submission and reaping measured at depth on the
 * same guest, not job.fio's defaults. Until session 49 the writes' fit was printed and stored but every run was
 * simulated with the reads' (a random write at iodepth 1 came out as the reads' run, +11 % in-sample on the shared
 * traces; deep writes +30 % and +37 % on one PVM host, +87 % and +148 % on another). */
#include "analysis/calibration/calibration.hpp"
#include "analysis/calibration/direction_fit.hpp"
#include "analysis/readers/fio_json.hpp"
#include "tests/support/json_support.hpp"

#include <gtest/gtest.h>

#include <cstdio>

using namespace pvsim;
using namespace pvsim::test;

namespace {
std::string shared_trace(const std::string& name)
{
  return std::string(PVSIM_SHARED_DIR) + "/traces/virtio-vm-1q/fio/" + name + ".json";
}

std::string pvm_dir()
{
  return source_dir() + "/tests/data/real/firecracker-pvm-2vcpu-20261205";
}

calibration::RunFacts facts_of(const std::string& file)
{
  return calibration::run_facts(readers::read_fio_json(file)).front();
}

/** The run of `runs` (validate --json) whose trace file name is `name`. */
json run_named(const json& v, const std::string& name)
{
  for (const auto& r : v["runs"])
    if (r["trace"].get<std::string>().find(name) != std::string::npos)
      return r;
  ADD_FAILURE() << "no run " << name;
  return json::object();
}
} // namespace

TEST(WriteDirection, AWriteRunsScenarioTakesTheWritesCostsAndAReadRunsTheReads)
{
  json dev =
      calibration::calibrate({shared_trace("randread_libaio_qd1_nj1_f1"), shared_trace("randread_libaio_qd64_nj1_f1"),
                              shared_trace("randwrite_libaio_qd1_nj1_f1")});
  ASSERT_TRUE(dev["scenario_fragment"].contains("write"));
  const json& wr = dev["parameters"]["write"];
  auto write     = calibration::scenario_for_run(dev, facts_of(shared_trace("randwrite_libaio_qd1_nj1_f1")), 0.1, 0.01,
                                                 1)["components"];
  auto read      = calibration::scenario_for_run(dev, facts_of(shared_trace("randread_libaio_qd1_nj1_f1")), 0.1, 0.01,
                                                 1)["components"];
  EXPECT_EQ(write["vda"]["kick_cpu"], calibration::detail::us(wr["kick_cpu"]["value_us"].get<double>() * 1e-6));
  EXPECT_EQ(write["fio"]["wakeup_cpu"], calibration::detail::us(wr["wakeup_cpu"]["value_us"].get<double>() * 1e-6));
  EXPECT_EQ(read["vda"]["kick_cpu"], dev["scenario_fragment"]["components"]["vda"]["kick_cpu"]);
  // The VMM thread wakes for a write's kick as for a read's, and its CPU per request is the reads' for both.
  EXPECT_EQ(write["fc"]["wakeup_latency"], read["fc"]["wakeup_latency"]);
  EXPECT_EQ(write["fc"]["sync_io_cpu"], read["fc"]["sync_io_cpu"]);
  // A write's time beyond a read's holds the thread: its syscall sleeps for fc.sync_write_wait (the writes' upper
  // tail) and the thread then wakes up (wakeup_cpu, 3 us, for each write that slept), the two together the writes'
  // host path at iodepth 1 less the reads' as the model runs them: each direction's mean service plus the VMM's I/O
  // CPU it was fitted with (the writes', with no deep write run, the source's 3 us; the reads' their own). The writes
  // stay page-cache hits; the reads' scenario has no wait.
  EXPECT_FALSE(write["fc"].contains("page_cache_hit"));
  EXPECT_EQ(write["disk"], read["disk"]);
  EXPECT_FALSE(read["fc"].contains("sync_write_wait"));
  const json& wait = write["fc"]["sync_write_wait"];
  ASSERT_EQ(wait["dist"], "empirical");
  double sum = 0, n = 0, slept = 0, longest = 0;
  for (std::size_t i = 0; i < wait["values_us"].size(); ++i) {
    double v = wait["values_us"][i].get<double>(), c = wait["counts"][i].get<double>();
    sum += v * c;
    n += c;
    slept += v > 0 ? c : 0;
    longest = std::max(longest, v);
  }
  double held = sum / n + 3.0 * slept / n; // firecracker.vmm's wakeup_cpu for each write that slept
  const json& rd = dev["parameters"]["read"];
  ASSERT_FALSE(wr.contains("sync_io_cpu"));
  double expected = wr["service"]["mean_us"].get<double>() + 3.0 -
                    (rd["service"]["mean_us"].get<double>() + rd["sync_io_cpu"]["value_us"].get<double>());
  std::printf("[check] the write's extra time on the VMM thread: mean wait %.3f us + wake-ups %.3f us = %.3f us "
              "(expected %.3f, tolerance 0.01); %.1f %% of writes sleep, longest %.0f us (the writes' tail: above "
              "1000)\n",
              sum / n, 3.0 * slept / n, held, expected, 100 * slept / n, longest);
  EXPECT_NEAR(held, expected, 0.01);
  EXPECT_GT(longest, 1000.0);
}

TEST(WriteDirection, WritesWithoutADeepRunTakeTheReadsSubmissionAndReapingAtDepth)
{
  // The shared traces' only write runs at iodepth 1: what depth removes (the kick, the wake-up) cannot be told from
  // the submission there. The reads' deep runs measured this guest's submission and reaping; the writes take them
  // (job.fio's 3 us and 2 us defaults when no read was deep), the rest of their slat and CPU going to kick and wake-up.
  json dev =
      calibration::calibrate({shared_trace("randread_libaio_qd1_nj1_f1"), shared_trace("randread_libaio_qd64_nj1_f1"),
                              shared_trace("randwrite_libaio_qd1_nj1_f1")});
  const json& rd = dev["parameters"]["read"];
  const json& wr = dev["parameters"]["write"];
  std::printf("[check] write submit_cpu %.3f us (the reads' %.3f), complete_cpu %.3f us (the reads' %.3f)\n",
              wr["submit_cpu"]["value_us"].get<double>(), rd["submit_cpu"]["value_us"].get<double>(),
              wr["complete_cpu"]["value_us"].get<double>(), rd["complete_cpu"]["value_us"].get<double>());
  EXPECT_DOUBLE_EQ(wr["submit_cpu"]["value_us"].get<double>(), rd["submit_cpu"]["value_us"].get<double>());
  EXPECT_DOUBLE_EQ(wr["complete_cpu"]["value_us"].get<double>(), rd["complete_cpu"]["value_us"].get<double>());
  EXPECT_NE(wr["submit_cpu"]["estimated"].get<std::string>().find("the reads' submission at depth"), std::string::npos);
  // The write's iodepth-1 slat is still all accounted for: submission + the driver's queue_rq + kick.
  double slat1 = wr["runs"][0]["slat_mean_us"].get<double>();
  EXPECT_NEAR(wr["submit_cpu"]["value_us"].get<double>() + 1.0 + wr["kick_cpu"]["value_us"].get<double>(), slat1, 1e-6);
}

TEST(WriteDirection, ARandomWriteIsSimulatedWithItsOwnFitInSample)
{
  // In-sample on the shared traces (calibrated on all 29 runs, the write among them): the random write at iodepth 1
  // (9.68 k IOPS; p99 995 us where the reads' is 130-380 us: 1 % of the writes above 1 ms) within 6 % on IOPS, and
  // its tail kept: its simulated p99 more than twice the read's. With the reads' fit it was +11 %, the p99 the read's.
  TempDir dir;
  std::string traces = trace_args(std::string(PVSIM_SHARED_DIR) + "/traces/virtio-vm-1q/fio");
  auto cal           = run_pvsim("calibrate -q" + traces + " -o " + dir.file("device.json"));
  ASSERT_EQ(cal.exit_code, 0) << cal.output;
  auto val = run_pvsim("validate -q --device " + dir.file("device.json") + " --trace " +
                       shared_trace("randwrite_libaio_qd1_nj1_f1") + " --trace " +
                       shared_trace("randread_libaio_qd1_nj1_f1") + " --json " + dir.file("v.json"));
  ASSERT_EQ(val.exit_code, 0) << val.output;
  json v           = read_json_file(dir.file("v.json"));
  json write       = run_named(v, "randwrite_libaio_qd1");
  json read        = run_named(v, "randread_libaio_qd1");
  double e         = write["error_pct"]["iops"].get<double>();
  double write_p99 = write["predicted"]["clat_p99_us"].get<double>();
  double read_p99  = read["predicted"]["clat_p99_us"].get<double>();
  std::printf("[check] randwrite qd1 in-sample: IOPS error %+.1f %% (tolerance 6); simulated p99 write %.0f us, read "
              "%.0f us (the write's above twice the read's); IOPS write %.0f, read %.0f\n",
              e, write_p99, read_p99, write["predicted"]["iops"].get<double>(),
              read["predicted"]["iops"].get<double>());
  EXPECT_LE(std::abs(e), 6.0);
  EXPECT_GT(write_p99, 2 * read_p99);
}

namespace {
/** calibrate on `reads` and the iodepth-1 write of `write_dir`, validate its deeper writes: each one's IOPS error. */
std::vector<std::pair<std::string, double>> deep_writes_from_reads(const std::string& reads,
                                                                   const std::string& write_dir)
{
  TempDir dir;
  auto cal = run_pvsim("calibrate -q" + reads + " --trace " + write_dir + "/randwrite_libaio_qd1_nj1.json -o " +
                       dir.file("device.json"));
  EXPECT_EQ(cal.exit_code, 0) << cal.output;
  auto val = run_pvsim("validate -q --device " + dir.file("device.json") + " --trace " + write_dir +
                       "/randwrite_libaio_qd16_nj1.json --trace " + write_dir +
                       "/randwrite_libaio_qd64_nj1.json --json " + dir.file("v.json"));
  EXPECT_EQ(val.exit_code, 0) << val.output;
  json v = read_json_file(dir.file("v.json"));
  std::vector<std::pair<std::string, double>> out;
  for (const char* name : {"randwrite_libaio_qd16", "randwrite_libaio_qd64"})
    out.emplace_back(name, run_named(v, name)["error_pct"]["iops"].get<double>());
  return out;
}
} // namespace

TEST(WriteDirection, DeepWritesBoundByTheHostArePredictedFromReadsAndOneIodepth1Write)
{
  // tests/data/real/pvm-writes-20261207: at depth the writes get 40 % of the reads' IOPS (32-34 k against 73-85 k),
  // bound on the host, where a write's iodepth-1 latency is 29 us longer than a read's. Leave-out: calibrated on the
  // reads and the iodepth-1 write, the writes at iodepth 16 and 64 within 35 % (28-31 % low: the thread's time per
  // write at depth is 30 us, the iodepth-1 runs say 38). With the reads' fit: +87 % and +148 %.
  std::string d = source_dir() + "/tests/data/real/pvm-writes-20261207";
  for (auto [name, e] : deep_writes_from_reads(trace_args(d + "/reads/fio"), d + "/write/fio")) {
    std::printf("[check] %s: IOPS error %+.1f %% (tolerance 35)\n", name.c_str(), e);
    EXPECT_LE(std::abs(e), 35.0) << name;
  }
}

TEST(WriteDirection, DeepWritesBoundByTheGuestArePredictedFromReadsAndOneIodepth1Write)
{
  // tests/data/real/firecracker-pvm-2vcpu-20261205: fio's vCPU bounds the deep writes (61-63 k), the host adds 5 us
  // to a write at iodepth 1. Leave-out as above: within 25 % (+3 % and +20 %). Before: +30 % and +37 %.
  for (auto [name, e] :
       deep_writes_from_reads(trace_args(pvm_dir() + "/libaio-r1/fio") + trace_args(pvm_dir() + "/libaio-r2/fio"),
                              pvm_dir() + "/write/fio")) {
    std::printf("[check] %s: IOPS error %+.1f %% (tolerance 25)\n", name.c_str(), e);
    EXPECT_LE(std::abs(e), 25.0) << name;
  }
}
