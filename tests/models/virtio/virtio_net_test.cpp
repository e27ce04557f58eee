/* virtio-net with vhost-net: queue pairs capped by the vCPUs, XPS Tx selection (per flow with the socket cache, per
 * packet, or by hash when the sending thread moves), Rx following the flow's Tx queue (tun automq), event-idx
 * suppression, vhost's per-pass budget, mergeable receive buffers, conservation per queue. One
 * simulation per test. */
#include "tests/support/cli_support.hpp"

#include "models/virtio/virtio_net.hpp"

#include <algorithm>

using namespace pvsim;

namespace {
struct VnetSetup {
  int vcpus = 4, host_cores = 12;
  json nic                = json::object();
  std::vector<json> flows = {json{{"direction", "tx"}}};
};

json components(const VnetSetup& s)
{
  json nic = {{"type", "virtio.net"}, {"vm", "guest"}, {"cpus", "host"}, {"target", "eth0"}, {"queues", 4}};
  nic.update(s.nic);
  json c = {{"host", {{"type", "cpu.host"}, {"cores", s.host_cores}}},
            {"guest", {{"type", "guest.vm"}, {"vcpus", s.vcpus}, {"pcpus", "host"}}},
            {"vnet", nic},
            {"eth0", {{"type", "net.link"}}}};
  for (std::size_t i = 0; i < s.flows.size(); ++i) {
    json f = {{"type", "net.flow"}, {"vm", "guest"}, {"target", "vnet"}};
    f.update(s.flows[i]);
    c["flow" + std::to_string(i)] = f;
  }
  return c;
}

json run(const VnetSetup& s, double duration = 0.006)
{
  json doc = {{"name", "virtio-net"},
              {"seed", 3},
              {"duration_s", duration},
              {"warmup_s", 0.001},
              {"components", components(s)}};
  Simulation sim(scenario_from_json(doc, "virtio-net"));
  json r = sim.run();
  require_conservation(r);
  return r;
}

json pair(const json& r, int q)
{
  return r["components"]["vnet"]["queues"][static_cast<std::size_t>(q)];
}

/** skb_tx_hash / tun's fallback: reciprocal_scale(hash, n). */
unsigned by_hash(std::uint32_t h, unsigned n)
{
  return static_cast<unsigned>((static_cast<std::uint64_t>(h) * n) >> 32);
}
} // namespace

TEST(VirtioNet, QueuePairsAreCappedByTheVcpus)
{
  VnetSetup s;
  s.vcpus = 2;
  s.nic   = {{"queues", 8}};
  json r  = run(s, 0.002);
  EXPECT_EQ(r["components"]["vnet"]["queue_pairs"], 2);
  EXPECT_TRUE(r["queues"].contains("vnet.rx1"));
  EXPECT_FALSE(r["queues"].contains("vnet.tx2"));
  EXPECT_EQ(pair(r, 1)["irq_vcpu"], 1);
}

TEST(VirtioNet, XpsSendsOnTheSendingVcpusQueue)
{
  VnetSetup s;
  s.flows = {json{{"direction", "tx"}, {"streams", 2}, {"window", "256KiB"}}}; // streams on vCPUs 0 and 1
  json r  = run(s);
  std::vector<bool> hashed(4, false);
  for (auto& st : r["components"]["flow0"]["streams"])
    hashed[by_hash(st["skb_hash"].get<std::uint32_t>(), 4)] = true;
  ASSERT_FALSE(hashed[0] and hashed[1]) << "the flows' hashes must not pick XPS's queues, or the test proves nothing";
  for (int q = 0; q < 4; ++q)
    EXPECT_EQ(pair(r, q)["tx"]["throughput_bps"].get<double>() > 0, q < 2) << "queue " << q;
}

TEST(VirtioNet, RxFollowsTheQueueTheGuestSendsTheFlowOn)
{
  VnetSetup s;
  s.flows = {json{{"direction", "rx"}, {"streams", 4}, {"window", "256KiB"}}}; // readers on vCPUs 0..3
  json r  = run(s);
  std::vector<int> hashed(4, 0);
  for (auto& st : r["components"]["flow0"]["streams"])
    hashed[by_hash(st["skb_hash"].get<std::uint32_t>(), 4)]++;
  ASSERT_NE(std::count(hashed.begin(), hashed.end(), 1), 4) << "hashing alone would already spread the flows";
  // Each reader's ACKs leave on its vCPU's queue, so tun's flow table steers its data there: one flow per queue.
  for (int q = 0; q < 4; ++q)
    EXPECT_GT(pair(r, q)["rx"]["throughput_bps"].get<double>(), 1e9) << "queue " << q;
  EXPECT_LT(r["components"]["vnet"]["queue_imbalance"].get<double>(), 1.2);
}

TEST(VirtioNet, UnderLoadEventIdxSuppressesMostKicksAndInterrupts)
{
  VnetSetup s;
  s.nic   = {{"queues", 1}};
  s.flows = {json{{"direction", "tx"}, {"streams", 4}, {"packet_size", "1448B"}},
             json{{"direction", "rx"}, {"streams", 4}, {"packet_size", "1448B"}}};
  json r  = run(s, 0.004);
  auto tx = pair(r, 0)["tx"];
  auto rx = pair(r, 0)["rx"];
  // The device's avail_event / the driver's used_event lag behind while the other side is busy: most are skipped.
  EXPECT_GT(tx["kicks_suppressed"].get<double>(), 10 * tx["kicks"].get<double>());
  EXPECT_GT(rx["interrupts_suppressed"].get<double>(), rx["interrupts_sent"].get<double>());
  EXPECT_GT(tx["kicks"].get<int>(), 0);
}

TEST(VirtioNet, OnePacketInFlightKicksEveryTime)
{
  VnetSetup s;
  s.nic   = {{"queues", 1}};
  s.flows = {json{{"direction", "tx"}, {"window", "64KiB"}}};
  json r  = run(s, 0.003);
  auto tx = pair(r, 0)["tx"];
  EXPECT_GT(tx["kicks"].get<int>(), 10);
  EXPECT_EQ(tx["kicks_suppressed"], 0); // vhost re-enabled notifications (avail_event = avail idx) after each pass
}

TEST(VirtioNet, AVhostPassMovesAtMostHalfAMegabyte)
{
  VnetSetup s;
  s.nic   = {{"queues", 1}};
  s.flows = {json{{"direction", "rx"}, {"streams", 8}}}; // 64 KiB packets, the vhost worker is the bottleneck
  json r  = run(s);
  auto rx = pair(r, 0)["rx"];
  EXPECT_EQ(rx["vhost_max_packets_per_pass"], 0x80000 / 65536); // VHOST_NET_WEIGHT
  EXPECT_GT(rx["vhost_budget_exhausted"].get<int>(), 0);
}

TEST(VirtioNet, AGsoPacketTakesSeventeenMergeableBuffers)
{
  VnetSetup s;
  s.nic   = {{"queues", 1}};
  s.flows = {json{{"direction", "rx"}, {"streams", 2}}};
  json r  = run(s, 0.003);
  EXPECT_EQ(pair(r, 0)["rx"]["buffers_per_packet"], 17.0); // (64 KiB + 12-byte header) in 4 KiB buffers
}

TEST(VirtioNet, EveryQueueAccountsForItsPackets)
{
  VnetSetup s;
  s.flows       = {json{{"direction", "tx"}, {"streams", 4}}, json{{"direction", "rx"}, {"streams", 4}}};
  json r        = run(s, 0.0041);
  int in_flight = 0;
  for (auto& [name, c] : r["conservation"]["components"].items()) {
    EXPECT_TRUE(c["ok"].get<bool>()) << name;
    if (name.rfind("vnet.", 0) == 0)
      in_flight += c["in_flight"].get<int>();
  }
  EXPECT_TRUE(r["conservation"]["components"].contains("vnet.tx3"));
  EXPECT_GT(in_flight, 0);
}

TEST(VirtioNet, AQueueSizeThatIsNotAPowerOfTwoIsBadInput)
{
  pvsim::test::TempDir dir;
  VnetSetup s;
  s.nic  = {{"rx_queue_size", 384}};
  auto f = dir.write("s.json", json{{"duration", "1ms"}, {"components", components(s)}}.dump());
  auto r = pvsim::test::run_pvsim("check " + f);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("rx_queue_size"), std::string::npos) << r.output;
}

TEST(VirtioNet, AnIdleRxQueueKeepsItsWholeRingOfBuffersPosted)
{
  VnetSetup s; // Tx traffic only: no receive buffer is ever used, try_fill_recv's 256 stay posted all along
  json r = run(s);
  for (int q = 0; q < 4; ++q)
    EXPECT_DOUBLE_EQ(pair(r, q)["rx"]["mean_buffers_posted"].get<double>(), 256.0) << "queue " << q;
}

TEST(VirtioNet, ReceivedPacketsWaitOnTheUsedRingUntilNapiTakesThem)
{
  VnetSetup s;
  s.flows = {json{{"direction", "rx"}, {"streams", 4}, {"window", "256KiB"}}};
  json r  = run(s);
  for (int q = 0; q < 4; ++q) {
    double pending = pair(r, q)["rx"]["mean_used_packets_pending"].get<double>();
    EXPECT_GT(pending, 0.0) << "queue " << q << ": packets pushed by vhost wait for the interrupt and the poll";
    EXPECT_LT(pending, 256.0) << "queue " << q;
  }
}

TEST(VirtioNet, WithAVhostNetBackendQemuClampsTheTxQueueTo256)
{
  // Two runs, so two processes (one SimGrid simulation per process): 1024 asked gives the run 256 gives.
  auto results_with = [](long long tx_queue_size) {
    pvsim::test::TempDir dir;
    VnetSetup s;
    s.nic    = {{"tx_queue_size", tx_queue_size}};
    json doc = {{"name", "virtio-net"}, {"seed", 3}, {"duration_s", 0.004}, {"components", components(s)}};
    auto r   = pvsim::test::run_pvsim("run -q " + dir.write("s.json", doc.dump()) + " -o " + dir.file("out"));
    EXPECT_EQ(r.exit_code, 0) << r.output;
    return r.exit_code == 0 ? json::parse(pvsim::test::read_file(dir.file("out/results.json"))) : json::object();
  };
  json large = results_with(1024), asked256 = results_with(256);
  ASSERT_TRUE(large.contains("components") and asked256.contains("components"));
  EXPECT_EQ(large["components"]["vnet"]["tx_queue_size_used"], 256);
  EXPECT_EQ(large["jobs"].dump(), asked256["jobs"].dump()) << "1024 asked, 256 used: the same run";
  EXPECT_EQ(pair(large, 0)["tx"].dump(), pair(asked256, 0)["tx"].dump());
}

// Tx queue selection (tx_select) when the sending thread moves: net.flow's migrate_interval moves every stream's
// thread to the next vCPU; with 4 vCPUs and 4 pairs, vCPU i's XPS queue is queue i.

namespace {
/** One stream from vCPU 0 moving to the next vCPU every 1.5 ms; stats over (1 ms, 6 ms]: moves at 1.5, 3 and 4.5 ms. */
VnetSetup migrating(const std::string& tx_select, json flow)
{
  VnetSetup s;
  s.nic = {{"tx_select", tx_select}};
  flow.update({{"direction", "tx"}, {"migrate_interval", "1.5ms"}});
  s.flows = {flow};
  return s;
}
const json backlogged = {{"window", "1MiB"}};                      // 16 packets in flight: the stream never drains
const json drained    = {{"window", "1MiB"}, {"rate", "1Gbit/s"}}; // one 64 KiB packet per 524 us, gone in ~0.2 ms

std::vector<bool> tx_queues_used(const json& r)
{
  std::vector<bool> used;
  for (int q = 0; q < 4; ++q)
    used.push_back(pair(r, q)["tx"]["throughput_bps"].get<double>() > 0);
  return used;
}
} // namespace

TEST(VirtioNetTxSelect, TheSocketKeepsItsCachedQueueUnlessUnsetOutOfRangeOrOooOkay)
{
  // netdev_pick_tx: (cached, ooo_okay, real_num_tx_queues, new pick) -> queue
  EXPECT_EQ(virtio_net_pick_tx(-1, false, 4, 3), 3u); // nothing cached yet: the new pick
  EXPECT_EQ(virtio_net_pick_tx(1, false, 4, 3), 1u);  // packets below TCP: keep the cache
  EXPECT_EQ(virtio_net_pick_tx(1, true, 4, 3), 3u);   // nothing in flight: re-pick
  EXPECT_EQ(virtio_net_pick_tx(4, false, 4, 3), 3u);  // the cache names a queue the device no longer has
  EXPECT_EQ(virtio_net_pick_tx(3, false, 4, 3), 3u);
}

TEST(VirtioNetTxSelect, PerFlowAStreamWithPacketsInFlightKeepsItsQueueWhenItsThreadMoves)
{
  json r   = run(migrating("xps-flow", backlogged));
  json vn  = r["components"]["vnet"];
  json str = r["components"]["flow0"]["streams"][0];
  ASSERT_EQ(str["migrations"], 3);
  EXPECT_EQ(str["vcpu"], 3);
  EXPECT_EQ(tx_queues_used(r), (std::vector<bool>{true, false, false, false})) << "queue 0, cached since vCPU 0";
  EXPECT_EQ(vn["tx_queue_repicks"], 0);
  EXPECT_GT(vn["tx_packets_off_xps_queue"].get<int>(), 0) << "sent from vCPUs 1-3 on vCPU 0's queue";
}

TEST(VirtioNetTxSelect, PerFlowAStreamThatDrainsRepicksOnItsNewVcpusQueue)
{
  json r  = run(migrating("xps-flow", drained));
  json vn = r["components"]["vnet"];
  ASSERT_EQ(r["components"]["flow0"]["streams"][0]["migrations"], 3);
  EXPECT_EQ(vn["tx_queue_repicks"], 3) << "one re-pick after each move: the first packet from the new vCPU is ooo_okay";
  EXPECT_EQ(vn["tx_packets_off_xps_queue"], 0);
  EXPECT_EQ(tx_queues_used(r), (std::vector<bool>{true, true, true, true}));
}

TEST(VirtioNetTxSelect, PerPacketFollowsTheVcpuAtOnce)
{
  json r  = run(migrating("xps-packet", backlogged));
  json vn = r["components"]["vnet"];
  ASSERT_EQ(r["components"]["flow0"]["streams"][0]["migrations"], 3);
  EXPECT_EQ(vn["tx_queue_repicks"], 3) << "packets in flight or not";
  EXPECT_EQ(vn["tx_packets_off_xps_queue"], 0);
  EXPECT_EQ(tx_queues_used(r), (std::vector<bool>{true, true, true, true}));
}

TEST(VirtioNetTxSelect, HashIgnoresTheVcpu)
{
  json r      = run(migrating("hash", drained));
  json vn     = r["components"]["vnet"];
  unsigned q  = by_hash(r["components"]["flow0"]["streams"][0]["skb_hash"].get<std::uint32_t>(), 4);
  auto used   = tx_queues_used(r);
  auto only_q = std::vector<bool>(4, false);
  only_q[q]   = true;
  EXPECT_EQ(used, only_q) << "skb_tx_hash: queue " << q << " from every vCPU";
  EXPECT_EQ(vn["tx_queue_repicks"], 0);
  EXPECT_GT(vn["tx_packets_off_xps_queue"].get<int>(), 0) << "3 of the 4 vCPUs have another XPS queue";
}

TEST(VirtioNetTxSelect, XpsOffIsTheOlderSpellingOfHash)
{
  VnetSetup s  = migrating("xps-flow", drained);
  s.nic["xps"] = false;
  json r       = run(s);
  unsigned q   = by_hash(r["components"]["flow0"]["streams"][0]["skb_hash"].get<std::uint32_t>(), 4);
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(pair(r, i)["tx"]["throughput_bps"].get<double>() > 0, static_cast<unsigned>(i) == q) << "queue " << i;
}

TEST(VirtioNetTxSelect, WithoutMigrationPerFlowAndPerPacketGiveTheSameRun)
{
  // Two runs, so two processes: threads that never move pick the same queue either way.
  auto results_with = [](const std::string& tx_select) {
    pvsim::test::TempDir dir;
    VnetSetup s;
    s.nic    = {{"tx_select", tx_select}};
    s.flows  = {json{{"direction", "tx"}, {"streams", 6}, {"window", "256KiB"}},
                json{{"direction", "rx"}, {"streams", 2}, {"port_base", 41000}}};
    json doc = {{"name", "virtio-net"}, {"seed", 3}, {"duration_s", 0.004}, {"components", components(s)}};
    auto r   = pvsim::test::run_pvsim("run -q " + dir.write("s.json", doc.dump()) + " -o " + dir.file("out"));
    EXPECT_EQ(r.exit_code, 0) << r.output;
    return r.exit_code == 0 ? json::parse(pvsim::test::read_file(dir.file("out/results.json"))) : json::object();
  };
  json flow = results_with("xps-flow"), packet = results_with("xps-packet");
  ASSERT_TRUE(flow.contains("components") and packet.contains("components"));
  EXPECT_EQ(flow["components"]["vnet"]["tx_queue_repicks"], 0);
  EXPECT_EQ(flow["jobs"].dump(), packet["jobs"].dump());
  EXPECT_EQ(flow["queues"].dump(), packet["queues"].dump());
  EXPECT_EQ(flow["components"].dump(), packet["components"].dump());
}

TEST(VirtioNetTxCompletion, StartXmitFreesWhatTheDeviceUsedOnTheSendingVcpu)
{
  // A paced MSS stream: each packet's buffer is used by vhost well before the next start_xmit, which frees it there
  // (free_old_xmit) rather than leaving it to the Tx interrupt's NAPI.
  VnetSetup s;
  s.nic          = {{"queues", 1}};
  s.flows        = {json{{"direction", "tx"}, {"packet_size", "1448B"}, {"rate", "1Gbit/s"}}};
  json r         = run(s, 0.004);
  auto tx        = pair(r, 0)["tx"];
  double packets = tx["packets_per_s"].get<double>() * 0.003;
  EXPECT_GT(tx["freed_in_xmit"].get<double>(), 0.9 * packets);
}
