/* pvsim xenstore and pvsim from-xenstore, as administrators use them. */
#include "tests/support/cli_support.hpp"

#include <nlohmann/json.hpp>

#include <sstream>

using namespace pvsim::test;
using nlohmann::json;

namespace {
std::string lab(const std::string& queues)
{
  return shared_dir() + "/traces/xen-lab-tcg/blkfront-max-queues-" + queues + "/xenstore-ls-f.txt";
}

/** The real dump of a two-queue vif (split event channels) that analysis/lab/lab.sh xen-net wrote in dom0 (Xen 4.17,
 * Linux 6.1 dom0 and domU): tests/data/lab/README.md. */
std::string real_vif_dump()
{
  return source_dir() + "/tests/data/lab/xen-net-q2/xen/xenstore-ls-f.txt";
}

/** Every real vif dump the lab wrote (tests/data/lab/README.md) and the set-up that made it. */
struct LabVif {
  std::string file;
  int queues;
  bool split;
};
std::vector<LabVif> lab_vifs()
{
  std::string d = source_dir() + "/tests/data/lab/";
  return {{d + "vif-dumps/xen-net-q1-split.txt", 1, true},
          {real_vif_dump(), 2, true},
          {d + "vif-dumps/xen-net-q2-shared.txt", 2, false}};
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

TEST(FromXenstore, ReadsTheRealTwoQueueVifTheLabDumped)
{
  auto r = run_pvsim("from-xenstore " + real_vif_dump());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  json j = json::parse(r.output);
  ASSERT_EQ(j["devices"].size(), 1u);
  const json& d = j["devices"][0];
  EXPECT_EQ(d["kind"], "vif");
  EXPECT_EQ(d["num_queues"], 2);
  EXPECT_EQ(d["split_event_channels"], true);
  EXPECT_EQ(d["frontend_state"], "Connected");
  ASSERT_EQ(d["queues"].size(), 2u);
  // The numbers as the dump has them (queue-1/event-channel-rx = "30", queue-0/tx-ring-ref = "1032").
  EXPECT_EQ(d["queues"][1]["rx_event_channel"], 30);
  EXPECT_EQ(d["queues"][0]["tx_ring_ref"], 1032);
  EXPECT_EQ(j["components"]["netfront_d1_0"]["max_queues"], 2);
  EXPECT_EQ(j["components"]["netback_d1_0"]["max_queues"], 2);
  EXPECT_EQ(j["components"]["netback_d1_0"]["split_event_channels"], true);
}

TEST(XenstoreCommand, TheVifTreeIsTheRealLabDumpKeyForKey)
{
  // The lab's set-up: dom0 with 2 vCPUs (netback's max_queues = its CPUs, set to 2 there), a 4-vCPU domU whose
  // netfront asks for 2 queues. tests/lab/vif_keys_match.py (also run by the lab's own vif test on fresh dumps)
  // compares every key and every value but the toolstack's mac and script and the grant refs.
  TempDir dir;
  auto printed = run_pvsim("xenstore " + source_dir() +
                           "/scenarios/xen-vif-mq.json --set components.dom0_cpus.cores=2 --set "
                           "components.vif.max_queues=2");
  ASSERT_EQ(printed.exit_code, 0) << printed.output;
  auto r = run_command("/usr/bin/python3 " + source_dir() + "/tests/lab/vif_keys_match.py " + real_vif_dump() + " " +
                       dir.write("simulated.txt", printed.output));
  std::cout << r.output;
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("45 keys in the real dump, 45 written by pvsim, 38 values compared, 0 differences"),
            std::string::npos)
      << r.output;
}

TEST(XenstoreCommand, TheVifComparisonCatchesAMissingKeyAndAWrongValue)
{
  TempDir dir;
  auto printed = run_pvsim("xenstore " + source_dir() +
                           "/scenarios/xen-vif-mq.json --set components.dom0_cpus.cores=2 --set "
                           "components.vif.max_queues=2");
  ASSERT_EQ(printed.exit_code, 0) << printed.output;
  std::string text = printed.output;
  auto drop        = text.find("/local/domain/1/device/vif/0/request-rx-copy");
  ASSERT_NE(drop, std::string::npos);
  text.erase(drop, text.find('\n', drop) + 1 - drop);
  auto value = text.find("multi-queue-max-queues = \"2\"");
  ASSERT_NE(value, std::string::npos);
  text.replace(value, std::string("multi-queue-max-queues = \"2\"").size(), "multi-queue-max-queues = \"8\"");
  auto r = run_command("/usr/bin/python3 " + source_dir() + "/tests/lab/vif_keys_match.py " + real_vif_dump() + " " +
                       dir.write("simulated.txt", text));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("pvsim does not write /local/domain/1/device/vif/0/request-rx-copy"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("multi-queue-max-queues: real '2', pvsim '8'"), std::string::npos) << r.output;
}

TEST(FromXenstore, TheRealVifDumpWithItsSecondQueueCutIsRefusedNamingTheKey)
{
  // multi-queue-num-queues says 2, queue-1's keys are gone: the frontend never wrote them, or the dump was cut.
  TempDir dir;
  std::string text = read_file(real_vif_dump()), cut;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (line.find("/device/vif/0/queue-1") == std::string::npos)
      cut += line + "\n";
  auto r = run_pvsim("from-xenstore " + dir.write("cut.txt", cut));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("queue-1"), std::string::npos) << "names the missing queue's key:\n" << r.output;
}

TEST(FromXenstore, EveryRealLabVifGivesItsQueuesAndChannels)
{
  for (const LabVif& v : lab_vifs()) {
    auto r = run_pvsim("from-xenstore " + v.file);
    ASSERT_EQ(r.exit_code, 0) << v.file << "\n" << r.output;
    json j = json::parse(r.output);
    ASSERT_EQ(j["devices"].size(), 1u) << v.file;
    const json& d = j["devices"][0];
    EXPECT_EQ(d["num_queues"], v.queues) << v.file;
    EXPECT_EQ(d["split_event_channels"], v.split) << v.file;
    ASSERT_EQ(d["queues"].size(), static_cast<std::size_t>(v.queues)) << v.file;
    for (const json& q : d["queues"]) // one channel per direction, or the same port for both
      EXPECT_EQ(q["tx_event_channel"] != q["rx_event_channel"], v.split) << q.dump();
    EXPECT_EQ(j["components"]["netback_d1_0"]["split_event_channels"], v.split) << v.file;
  }
}

TEST(XenstoreCommand, EveryRealLabVifTreeIsWrittenKeyForKey)
{
  // One queue (its keys at the top level), two with split channels, two sharing one: the lab's set-ups, dom0 with
  // 2 vCPUs and both ends' max_queues set to the queues (lab.sh --queues sets netfront's and netback's).
  for (const LabVif& v : lab_vifs()) {
    TempDir dir;
    std::string q = std::to_string(v.queues);
    auto printed  = run_pvsim("xenstore " + source_dir() +
                              "/scenarios/xen-vif-mq.json --set components.dom0_cpus.cores=2 --set "
                               "components.vif.max_queues=" +
                              q + " --set components.vif-be.max_queues=" + q +
                              " --set components.vif-be.split_event_channels=" + (v.split ? "true" : "false"));
    ASSERT_EQ(printed.exit_code, 0) << printed.output;
    auto r = run_command("/usr/bin/python3 " + source_dir() + "/tests/lab/vif_keys_match.py " + v.file + " " +
                         dir.write("simulated.txt", printed.output));
    std::cout << v.file.substr(v.file.rfind("/lab/") + 5) << ": " << r.output;
    EXPECT_EQ(r.exit_code, 0) << r.output;
  }
}
