/* pvsim xenstore and pvsim from-xenstore, as administrators use them. */
#include "tests/support/cli_support.hpp"

#include <nlohmann/json.hpp>

using namespace pvsim::test;
using nlohmann::json;

namespace {
std::string lab(const std::string& queues)
{
  return shared_dir() + "/traces/xen-lab-tcg/blkfront-max-queues-" + queues + "/xenstore-ls-f.txt";
}
} // namespace

TEST(XenstoreCommand, PrintsTheNegotiatedMultiQueueTreeAsXenstoreLs)
{
  auto r = run_pvsim("xenstore " + source_dir() + "/scenarios/xen-blk-mq.json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("/local/domain/0/backend/vbd/1/51712/multi-queue-max-queues = \"4\""), std::string::npos);
  EXPECT_NE(r.output.find("/local/domain/1/device/vbd/51712/multi-queue-num-queues = \"4\""), std::string::npos);
  EXPECT_NE(r.output.find("/local/domain/1/device/vbd/51712/queue-3/event-channel = "), std::string::npos);
}

TEST(XenstoreCommand, ASingleQueueKeepsTheTopLevelKeys)
{
  auto r = run_pvsim("xenstore " + source_dir() + "/scenarios/xen-blk-mq.json --set components.xvda.max_queues=1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("/local/domain/1/device/vbd/51712/ring-ref = "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("/local/domain/1/device/vbd/51712/event-channel = "), std::string::npos);
  EXPECT_EQ(r.output.find("multi-queue-num-queues"), std::string::npos);
}

TEST(XenstoreCommand, ShowsTheStateTransitionsWithTheirSimulatedTimes)
{
  auto r = run_pvsim("xenstore " + source_dir() + "/scenarios/xen-blk-mq.json");
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_NE(r.output.find("Initialising -> InitWait"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("0.000500 s  frontend /local/domain/1/device/vbd/51712: Initialised -> Connected"),
            std::string::npos)
      << r.output;
}

TEST(FromXenstore, ReadsTheRealFourQueueDump)
{
  auto r = run_pvsim("from-xenstore " + lab("4"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  json j = json::parse(r.output);
  ASSERT_EQ(j["devices"].size(), 1u);
  EXPECT_EQ(j["devices"][0]["num_queues"], 4);
  EXPECT_EQ(j["devices"][0]["ring_slots"], 32);
  EXPECT_EQ(j["devices"][0]["rings"].size(), 4u);
  EXPECT_EQ(j["components"]["blkfront_d2_51712"]["max_queues"], 4);
  EXPECT_EQ(j["components"]["blkback_d2_51712"]["max_ring_page_order"], 4);
}

TEST(FromXenstore, ReadsTheRealSingleQueueDump)
{
  auto r = run_pvsim("from-xenstore " + lab("1"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  json j = json::parse(r.output);
  EXPECT_EQ(j["devices"][0]["num_queues"], 1);
  EXPECT_EQ(j["components"]["blkfront_d1_51712"]["max_queues"], 1);
}

TEST(FromXenstore, ReadsNetworkDevicesAndEmitsTheirFrontendAndBackend)
{
  auto r = run_pvsim("from-xenstore " + source_dir() + "/tests/data/xen/netfront-4q-split.txt");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  json j = json::parse(r.output);
  ASSERT_EQ(j["devices"].size(), 1u);
  EXPECT_EQ(j["devices"][0]["kind"], "vif");
  EXPECT_EQ(j["devices"][0]["num_queues"], 4);
  EXPECT_EQ(j["components"]["netfront_d1_0"]["type"], "xen.netfront");
  EXPECT_EQ(j["components"]["netfront_d1_0"]["max_queues"], 4);
  EXPECT_EQ(j["components"]["netback_d1_0"]["type"], "xen.netback");
  EXPECT_EQ(j["components"]["netback_d1_0"]["max_queues"], 4);
  EXPECT_EQ(j["components"]["netback_d1_0"]["split_event_channels"], true);
}

TEST(XenstoreCommand, PrintsAMultiQueueVifWithItsTxAndRxRingsAndChannels)
{
  auto r = run_pvsim("xenstore " + source_dir() + "/scenarios/xen-vif-mq.json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("/local/domain/1/device/vif/0/multi-queue-num-queues = \"4\""), std::string::npos)
      << r.output;
  for (const char* key : {"tx-ring-ref", "rx-ring-ref", "event-channel-tx", "event-channel-rx"})
    EXPECT_NE(r.output.find(std::string("/local/domain/1/device/vif/0/queue-3/") + key + " = "), std::string::npos)
        << key;
  EXPECT_NE(r.output.find("/local/domain/0/backend/vif/1/0/feature-split-event-channels = \"1\""), std::string::npos);
  EXPECT_NE(r.output.find("frontend /local/domain/1/device/vif/0: Initialising -> Connected"), std::string::npos)
      << "netfront connects from Initialising once the backend is in InitWait (xennet_connect)";
}

TEST(FromXenstore, ReadsBackTheVifTheXenstoreCommandPrinted)
{
  TempDir dir;
  auto printed = run_pvsim("xenstore " + source_dir() + "/scenarios/xen-vif-mq.json");
  ASSERT_EQ(printed.exit_code, 0);
  auto r = run_pvsim("from-xenstore " + dir.write("tree.txt", printed.output));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  json j = json::parse(r.output);
  ASSERT_EQ(j["devices"].size(), 1u);
  EXPECT_EQ(j["devices"][0]["num_queues"], 4);
  EXPECT_EQ(j["components"]["netfront_d1_0"]["max_queues"], 4);
  EXPECT_EQ(j["components"]["netback_d1_0"]["max_queues"], 8);
}

TEST(FromXenstore, DomidKeepsOneDomain)
{
  auto r = run_pvsim("from-xenstore " + lab("4") + " --domid 7");
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_TRUE(json::parse(r.output)["devices"].empty());
}

TEST(FromXenstore, AnInconsistentTreeIsBadInputNamingTheKey)
{
  auto r = run_pvsim("from-xenstore " + source_dir() + "/tests/data/xen/netfront-invalid-too-many-queues.txt");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("multi-queue-num-queues"), std::string::npos) << r.output;
}

TEST(FromXenstore, ReadsBackWhatTheXenstoreCommandPrinted)
{
  TempDir dir;
  auto printed = run_pvsim("xenstore " + source_dir() + "/scenarios/xen-blk-mq.json");
  ASSERT_EQ(printed.exit_code, 0);
  std::string f = dir.write("tree.txt", printed.output);
  auto r        = run_pvsim("from-xenstore " + f);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(json::parse(r.output)["devices"][0]["num_queues"], 4);
}
