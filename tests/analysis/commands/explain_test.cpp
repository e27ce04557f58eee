/* pvsim explain: one request's path through the stack and where its time went, adding up to its latency. */
#include "tests/support/cli_support.hpp"

#include <gtest/gtest.h>
#include <regex>

using namespace pvsim::test;

namespace {
CommandResult explain(const std::string& scenario, const std::string& extra = "")
{
  return run_pvsim("explain " + source_dir() + "/scenarios/" + scenario + " " + extra);
}

/** The "N us" after `label` in the output. */
double micros_after(const std::string& out, const std::string& label)
{
  std::smatch m;
  std::regex re(label + "[^\\n]*?([0-9.]+) us");
  EXPECT_TRUE(std::regex_search(out, m, re)) << label << " in " << out;
  return m.empty() ? -1 : std::stod(m[1]);
}
} // namespace

TEST(Explain, XenBlkMqNamesTheVcpuHctxTagRingAndDisk)
{
  auto r = explain("xen-blk-mq.json", "--set duration=15ms");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (std::string part : {"on vCPU ", "blkmq.hctx", "hardware queue ", "tag ", "xvda.ring", "nullb0", "xen.blkfront"})
    EXPECT_NE(r.output.find(part), std::string::npos) << part << " missing from:\n" << r.output;
}

TEST(Explain, WhereTheTimeWentAddsUpToTheLatency)
{
  auto r = explain("virtio-blk-iothreads.json", "--request 5000");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  double latency = micros_after(r.output, "completed at [0-9.]+ ms:");
  double total   = micros_after(r.output, "total \\(the request's latency\\)");
  std::cout << "latency " << latency << " us, table total " << total << " us (expected equal, +-0.2 us)\n";
  EXPECT_NEAR(total, latency, 0.2);
  EXPECT_NE(r.output.find("iot"), std::string::npos) << "the AIO engine of the IOThread is on the path";
}

TEST(Explain, TheNetStackIsExplainedToo)
{
  auto r = explain("xen-vif-mq.json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("vif.rx"), std::string::npos) << r.output;
}

TEST(Explain, ARequestNeverSubmittedIsRefused)
{
  auto r = explain("mm1.json", "--set duration=1ms --set warmup=0s --request 999999999");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("never submitted"), std::string::npos) << r.output;
}
