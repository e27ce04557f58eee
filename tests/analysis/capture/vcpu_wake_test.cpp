/* analysis/capture/vcpu_wake.cpp, the measurement of a machine's vCPU wake-up latencies that guest.vm's idle-vCPU
 * parameters take (README "Idle vCPUs"): its output and its refusals. Its figures are the machine's, so the tests check
 * their form and their order, not their values. */
#include "tests/support/cli_support.hpp"

#include <nlohmann/json.hpp>
#include <thread>

using nlohmann::json;

namespace {
pvsim::test::CommandResult run_vcpu_wake(const std::string& args)
{
  return pvsim::test::run_command(std::string(PVSIM_VCPU_WAKE_BINARY) + " " + args);
}
} // namespace

TEST(VcpuWake, PrintsEachIdleTimesLatenciesAndTheDifferencesGuestVmTakes)
{
  if (std::thread::hardware_concurrency() < 2)
    GTEST_SKIP() << "needs two CPUs";
  // stderr is folded into the output: the tool writes nothing there when it works.
  auto r = run_vcpu_wake("--rounds 30 --idle-us 300,5 --busy-idle-us 5");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  json j = json::parse(r.output);
  EXPECT_EQ(j["tool"], "pvsim vcpu_wake");
  ASSERT_EQ(j["points"].size(), 3u);
  EXPECT_EQ(j["points"][0]["idle_us"].get<double>(), 5) << "idle times are measured shortest first";
  EXPECT_EQ(j["points"][1]["idle_us"].get<double>(), 300);
  EXPECT_TRUE(j["points"][2]["busy"].get<bool>());
  for (const auto& p : j["points"]) {
    EXPECT_GT(p["p50_us"].get<double>(), 0);
    EXPECT_LE(p["p10_us"].get<double>(), p["p50_us"].get<double>());
    EXPECT_LE(p["p50_us"].get<double>(), p["p99_us"].get<double>());
  }
  EXPECT_EQ(j["polled_us"].get<double>(), j["points"][0]["p50_us"].get<double>());
  EXPECT_GE(j["halt_wake_latency_us"].get<double>(), 0);
  EXPECT_NEAR(j["busy_kick_latency_us"].get<double>(),
              std::max(0.0, j["busy_us"].get<double>() - j["polled_us"].get<double>()), 0.011);
}

TEST(VcpuWake, BadArgumentsExitWith2AndSayWhatWasExpected)
{
  auto r = run_vcpu_wake("--cpus 0,0");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("two different CPU numbers"), std::string::npos) << r.output;
  r = run_vcpu_wake("--cpus 0,4096");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("cannot run on CPU 4096"), std::string::npos) << r.output;
  r = run_vcpu_wake("--idle-us 10,x");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("comma-separated list of microseconds"), std::string::npos) << r.output;
  r = run_vcpu_wake("--rounds");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("needs a value"), std::string::npos) << r.output;
}
