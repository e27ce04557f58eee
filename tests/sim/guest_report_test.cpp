/* results.json's "guests": per guest (the jobs naming it in "vm"), its jobs' IOPS, bandwidth and latency together,
 * and Jain's fairness index across the guests. */
#include "tests/support/cli_support.hpp"

#include <gtest/gtest.h>

using namespace pvsim::test;
using json = nlohmann::json;

TEST(GuestReport, EachGuestSumsItsJobsAndFairnessIsJainsIndex)
{
  TempDir dir;
  // Two guests; "four" gets a second job: its report adds both jobs' requests.
  std::string extra = dir.write("two_jobs.json", R"({"type": "job.fio", "vm": "four", "numjobs": 1, "iodepth": 4,
    "rw": "randread", "bs": "4KiB", "target": "four_blkmq"})");
  auto r = run_pvsim("run -q " + source_dir() + "/scenarios/default.json --set duration=20ms -o " + dir.file("out") +
                     " --set 'components.four_fio2=" + read_file(extra) + "'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  json res        = json::parse(read_file(dir.file("out/results.json")));
  const json& per = res["guests"]["per_guest"];
  ASSERT_TRUE(per.contains("one") and per.contains("four")) << res["guests"].dump();
  EXPECT_EQ(per["four"]["jobs"].size(), 2u);
  EXPECT_EQ(per["four"]["requests"].get<long long>(), res["jobs"]["four_fio"]["requests"].get<long long>() +
                                                          res["jobs"]["four_fio2"]["requests"].get<long long>());
  double a = per["one"]["iops"].get<double>(), b = per["four"]["iops"].get<double>();
  double jain = (a + b) * (a + b) / (2 * (a * a + b * b));
  std::cout << "guests " << a << " and " << b << " IOPS: Jain " << jain << " (expected equal to the report's, 1e-9)\n";
  EXPECT_NEAR(res["guests"]["fairness_jain_iops"].get<double>(), jain, 1e-9);
}

TEST(GuestReport, JobsWithoutAGuestGiveNoGuestReport)
{
  TempDir dir;
  ASSERT_EQ(run_pvsim("run -q " + source_dir() + "/scenarios/mm1.json --set duration=50ms --set warmup=5ms -o " +
                      dir.file("out"))
                .exit_code,
            0);
  EXPECT_FALSE(json::parse(read_file(dir.file("out/results.json"))).contains("guests"));
}

// results.json's "host_cpu": every pool's core time split by who used it.
TEST(HostCpuSplit, AGuestVcpuShareIsItsCpuPerRequestTimesTheRateOverTheCores)
{
  TempDir dir;
  std::string file = dir.write("s.json", R"({"duration": "100ms", "warmup": "10ms", "components": {
    "host": {"type": "cpu.host", "cores": 4},
    "vm": {"type": "guest.vm", "vcpus": 2, "pcpus": "host"},
    "fio": {"type": "job.fio", "vm": "vm", "iodepth": 1, "submit_cpu": "10us", "complete_cpu": "10us", "target": "dev"},
    "dev": {"type": "device.null_blk", "completion_latency": "80us"}}})");
  auto r           = run_pvsim("run -q " + file + " -o " + dir.file("out"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const json h = json::parse(read_file(dir.file("out/results.json")))["host_cpu"];
  // One request per 100 us (10 submit + 80 device + 10 complete), 20 us of vCPU each: 0.2 of a core, of 4 cores.
  std::cout << "guest vCPUs " << h["guest_vcpus"] << " of the cores (expected 0.05 +- 0.001), idle " << h["idle"]
            << " (expected 0.95)\n";
  EXPECT_NEAR(h["guest_vcpus"].get<double>(), 0.05, 0.001);
  EXPECT_NEAR(h["idle"].get<double>(), 0.95, 0.001);
  EXPECT_EQ(h["backends"].get<double>(), 0.0);
}

TEST(HostCpuSplit, ADom0PoolOfBackendThreadsCountsAsBackendsAndTheSharesAddUpToOne)
{
  TempDir dir;
  auto r =
      run_pvsim("run -q " + source_dir() + "/scenarios/xen-blk-queues.json --set duration=30ms -o " + dir.file("out"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const json h    = json::parse(read_file(dir.file("out/results.json")))["host_cpu"];
  const json dom0 = h["per_pool"]["dom0_cpus"];
  EXPECT_EQ(dom0["guest_vcpus"].get<double>(), 0.0);
  EXPECT_GT(dom0["backends"].get<double>(), 0.9) << "4 rings' kthreads saturate dom0's 4 CPUs";
  EXPECT_GT(h["per_pool"]["host"]["guest_vcpus"].get<double>(), 0.1);
  for (const json& split : {h, dom0, h["per_pool"]["host"]}) {
    double sum = 0;
    for (const char* k : {"guest_vcpus", "backends", "spinning", "switching", "idle"})
      sum += split[k].get<double>();
    EXPECT_NEAR(sum, 1.0, 0.01) << split.dump();
  }
}
