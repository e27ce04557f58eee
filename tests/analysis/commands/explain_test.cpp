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

TEST(Explain, XenBlkMqTellsTheRingSlotNotificationBackendPassGrantsAndInterrupt)
{
  auto r = explain("xen-blk-mq.json", "--set duration=15ms");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (std::string part :
       {"put it in slot ", "req_prod ", "req_event ", "event channel ", "the backend's thread vbd.ring",
        "request of its pass", "grants: ", "put the response in slot ", "rsp_prod ", "rsp_event ",
        "the interrupt handler on domU.vcpu", "the job reaped it on domU.vcpu"})
    EXPECT_NE(r.output.find(part), std::string::npos) << part << " missing from:\n" << r.output;
  EXPECT_TRUE(r.output.find("so it notified the backend") != std::string::npos or
              r.output.find("no notification on event channel") != std::string::npos)
      << "the push says whether it notified:\n"
      << r.output;
}

TEST(Explain, ARingsTimeIsSplitByTheRequestsStepsAndStillAddsUp)
{
  auto r = explain("xen-blk-mq.json", "--set duration=15ms --request 3000");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (std::string part :
       {": published, waiting for the backend to take it", ": taken by the backend, response not yet published",
        ": response published, waiting for the interrupt handler"})
    EXPECT_NE(r.output.find(part), std::string::npos) << part << " missing from:\n" << r.output;
  double latency = micros_after(r.output, "completed at [0-9.]+ ms:");
  double total   = micros_after(r.output, "total \\(the request's latency\\)");
  std::cout << "latency " << latency << " us, table total " << total << " us (expected equal, +-0.2 us)\n";
  EXPECT_NEAR(total, latency, 0.2);
}

TEST(Explain, ABusySubmittingVcpuIsShownAsTheTimeBeforeTheBlockLayer)
{
  // xen-blk-mq: 4 jobs at iodepth 32, each on its own vCPU, which spends ~14 us per request: the vCPU is the
  // bottleneck, so nearly all of the time before the block layer is the vCPU running other work.
  auto r = explain("xen-blk-mq.json", "--set duration=15ms");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.output, m,
                                std::regex("reaches the block layer after ([0-9.]+) us: the vCPU ran ([0-9.]+) us")))
      << r.output;
  double gap = std::stod(m[1]), busy = std::stod(m[2]);
  std::cout << "before the block layer " << gap << " us, of which the vCPU ran " << busy << " us (expected > 90 %)\n";
  EXPECT_GT(busy, 0.9 * gap);
  EXPECT_LE(busy, gap + 0.1);
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

TEST(Explain, VirtioBlkTellsTheAvailRingKickAndTheUsedRingInterrupt)
{
  auto r = explain("virtio-blk-iothreads.json", "--request 5000");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (std::string part :
       {"the driver on guest.vcpu", "avail.idx ", "avail_event ", "ioeventfd ", "the device's thread iot",
        "last_avail_idx ", "used.idx ", "used_event ", "MSI-X vector ", "the interrupt handler on"})
    EXPECT_NE(r.output.find(part), std::string::npos) << part << " missing from:\n" << r.output;
}

TEST(Explain, FirecrackersVmmThreadIsTheDevice)
{
  auto r = explain("firecracker-blk.json", "--set duration=40ms");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (std::string part : {"the device's thread fc took it off vda.vq0", "put the response in slot "})
    EXPECT_NE(r.output.find(part), std::string::npos) << part << " missing from:\n" << r.output;
}

TEST(Explain, TheNetStacksTellTheirRingsChannelsAndPostedBuffers)
{
  auto vif = explain("xen-vif-mq.json");
  ASSERT_EQ(vif.exit_code, 0) << vif.output;
  for (std::string part : {"took a buffer the frontend had posted on vif.rx", "rsp_prod ", "event channel ",
                           "the interrupt handler on domU.vcpu"})
    EXPECT_NE(vif.output.find(part), std::string::npos) << part << " missing from:\n" << vif.output;
  auto kvm = explain("vif-vs-virtio-net.json", "--set components.xen_iperf.startdelay=1s");
  ASSERT_EQ(kvm.exit_code, 0) << kvm.output;
  for (std::string part : {"took a buffer the driver had posted on kvm_vnet.rx", "kvm_vnet.vhost",
                           "signalled the responses it published since its last signal", "used_event "})
    EXPECT_NE(kvm.output.find(part), std::string::npos) << part << " missing from:\n" << kvm.output;
}

TEST(Explain, ARequestNeverSubmittedIsRefused)
{
  auto r = explain("mm1.json", "--set duration=1ms --set warmup=0s --request 999999999");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("never submitted"), std::string::npos) << r.output;
}

TEST(Explain, SummaryAveragesTheBreakdownOverEveryRequest)
{
  auto r = explain("xen-blk-mq.json", "--set duration=15ms --summary --json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto doc   = nlohmann::json::parse(r.output);
  double sum = 0;
  for (const auto& s : doc["stages"])
    sum += s["mean_us"].get<double>();
  std::cout << doc["requests"] << " requests, mean latency " << doc["mean_latency_us"] << " us, stages add up to "
            << sum << " us (expected equal, +-0.1 %)\n";
  EXPECT_GT(doc["requests"].get<long long>(), 1000);
  EXPECT_NEAR(sum, doc["mean_latency_us"].get<double>(), 1e-3 * sum);
}

TEST(Explain, LatencyBreakdownPlotsOneStackedBarPerConfiguration)
{
  TempDir dir;
  auto r = run_command("/usr/bin/python3 " + source_dir() + "/analysis/latency_breakdown.py " + source_dir() +
                       "/scenarios/xen-blk-mq.json --pvsim " + pvsim_binary() +
                       " --config 1ring=components.xvda.max_queues=1,duration=15ms"
                       " --config 4rings=components.xvda.max_queues=4,duration=15ms -o " +
                       dir.file("bd"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::string csv = read_file(dir.file("bd/breakdown.csv"));
  EXPECT_NE(csv.find("1ring,blkmq.hctx (waiting)"), std::string::npos) << csv;
  EXPECT_NE(csv.find("4rings,\"xvda.ring: taken by the backend"), std::string::npos) << csv;
  EXPECT_EQ(read_file(dir.file("bd/breakdown.png")).substr(1, 3), "PNG");
}
