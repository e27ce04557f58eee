/* Xen netfront/netback: slots per packet, ring back-pressure, notification suppression, shared vs split event
 * channels, Tx and Rx steering, the NAPI budget, conservation per queue. One simulation per test. */
#include "tests/support/cli_support.hpp"

#include "models/net/net_flow.hpp"
#include "models/xen/net/netif_steering.hpp"
#include "models/xen/net/xen_netfront.hpp"

using namespace pvsim;

namespace {
struct NetSetup {
  int vcpus = 4, dom0_cores = 8;
  json front = json::object(), back = json::object();
  std::vector<json> flows = {json{{"direction", "tx"}}};
};

json components(const NetSetup& s)
{
  json front = {{"type", "xen.netfront"}, {"vm", "domU"}, {"backend", "vif-be"}};
  front.update(s.front);
  json back = {{"type", "xen.netback"}, {"cpus", "dom0"}, {"target", "eth0"}};
  back.update(s.back);
  json c = {{"host", {{"type", "cpu.host"}, {"cores", s.vcpus}}},
            {"dom0", {{"type", "cpu.host"}, {"cores", s.dom0_cores}}},
            {"domU", {{"type", "guest.vm"}, {"vcpus", s.vcpus}, {"pcpus", "host"}}},
            {"vif", front},
            {"vif-be", back},
            {"eth0", {{"type", "net.link"}}}};
  for (std::size_t i = 0; i < s.flows.size(); ++i) {
    json f = {{"type", "net.flow"}, {"vm", "domU"}, {"target", "vif"}};
    f.update(s.flows[i]);
    c["flow" + std::to_string(i)] = f;
  }
  return c;
}

json run(const NetSetup& s, double duration = 0.006)
{
  json doc = {
      {"name", "xen-net"}, {"seed", 3}, {"duration_s", duration}, {"warmup_s", 0.001}, {"components", components(s)}};
  Simulation sim(scenario_from_json(doc, "xen-net"));
  json r = sim.run();
  require_conservation(r);
  return r;
}

json queue(const json& r, int q)
{
  return r["components"]["vif"]["queues"][static_cast<std::size_t>(q)];
}
} // namespace

TEST(XenNet, QueuesAreTheMinimumOfEightVcpusAndTheBackendsCpus)
{
  NetSetup s;
  s.vcpus      = 4;
  s.dom0_cores = 2; // netback advertises multi-queue-max-queues = dom0's CPUs
  json r       = run(s, 0.002);
  EXPECT_EQ(r["components"]["vif"]["negotiated"]["num_queues"], 2);
  EXPECT_EQ(r["components"]["vif-be"]["queues"].size(), 2u);
  EXPECT_TRUE(r["queues"].contains("vif.tx1"));
  EXPECT_FALSE(r["queues"].contains("vif.tx2"));
}

TEST(XenNet, AGsoPacketTakesEighteenTxSlotsAndSeventeenRxSlots)
{
  NetSetup s;
  s.front = {{"max_queues", 1}};
  s.flows = {json{{"direction", "tx"}}, json{{"direction", "rx"}}}; // 64 KiB GSO packets both ways
  json r  = run(s);
  EXPECT_EQ(queue(r, 0)["tx"]["slots_per_packet"], 18.0); // head + 16 pages + GSO extra
  EXPECT_EQ(queue(r, 0)["rx"]["slots_per_packet"], 17.0); // 16 pages + GSO extra
}

TEST(XenNet, AnMssPacketTakesTwoTxSlotsAndOneRxSlot)
{
  NetSetup s;
  s.front = {{"max_queues", 1}};
  s.flows = {json{{"direction", "tx"}, {"packet_size", "1448B"}}, json{{"direction", "rx"}, {"packet_size", "1448B"}}};
  json r  = run(s, 0.003);
  EXPECT_EQ(queue(r, 0)["tx"]["slots_per_packet"], 2.0);
  EXPECT_EQ(queue(r, 0)["rx"]["slots_per_packet"], 1.0);
}

TEST(XenNet, AFullTxRingStopsTheQueueAndPacketsWaitInTheQdisc)
{
  NetSetup s;
  s.front = {{"max_queues", 1}};
  s.back  = {{"tx_slot_cpu", "20us"}}; // a slow backend
  s.flows = {json{{"direction", "tx"}, {"streams", 4}, {"window", "4MiB"}}};
  json r  = run(s);
  EXPECT_GT(queue(r, 0)["tx_queue_stops"].get<int>(), 0);
  // 256 slots, stopped below 19 free: the ring stays nearly full, and never overflows (SharedRing would throw).
  EXPECT_GT(queue(r, 0)["tx"]["mean_ring_occupancy"].get<double>(), 200.0);
  EXPECT_GT(r["conservation"]["components"]["vif.tx0"]["in_flight"].get<int>(), 256 / 18);
}

TEST(XenNet, OnePacketInFlightNotifiesTheBackendEveryTime)
{
  NetSetup s;
  s.front = {{"max_queues", 1}};
  s.flows = {json{{"direction", "tx"}, {"window", "64KiB"}}};
  json r  = run(s, 0.003);
  auto tx = queue(r, 0)["tx"];
  EXPECT_GT(tx["requests_notified"].get<int>(), 10);
  EXPECT_EQ(tx["requests_suppressed"], 0);
  EXPECT_EQ(tx["responses_suppressed"], 0);
}

TEST(XenNet, UnderLoadMostNotificationsAreSuppressed)
{
  NetSetup s;
  s.front = {{"max_queues", 1}};
  s.flows = {json{{"direction", "tx"}, {"streams", 4}, {"packet_size", "1448B"}}};
  json r  = run(s, 0.004);
  auto tx = queue(r, 0)["tx"];
  EXPECT_GT(tx["requests_suppressed"].get<double>(), 2 * tx["requests_notified"].get<double>());
  EXPECT_GT(tx["responses_suppressed"].get<double>(), 2 * tx["responses_notified"].get<double>());
}

TEST(XenNet, ASharedEventChannelMergesBothDirectionsNotifications)
{
  NetSetup s;
  s.front = {{"max_queues", 1}, {"irq_cpu", "10us"}};
  s.back  = {{"split_event_channels", false}};
  s.flows = {json{{"direction", "tx"}, {"window", "64KiB"}, {"streams", 2}},
             json{{"direction", "rx"}, {"window", "64KiB"}, {"streams", 2}}};
  json r  = run(s);
  EXPECT_FALSE(r["components"]["vif"]["negotiated"]["split_event_channels"].get<bool>());
  auto q = queue(r, 0);
  // One port (both directions report it): a notification that finds the bit pending merges into that upcall.
  EXPECT_EQ(q["rx"]["frontend_upcalls"], q["tx"]["frontend_upcalls"]);
  EXPECT_GE(q["tx"]["frontend_coalesced"].get<int>(), 3);
  EXPECT_LT(q["tx"]["frontend_upcalls"].get<int>(),
            q["tx"]["responses_notified"].get<int>() + q["rx"]["responses_notified"].get<int>());
}

TEST(XenNet, SplitEventChannelsKeepTheDirectionsApart)
{
  NetSetup s;
  s.front = {{"max_queues", 1}, {"irq_cpu", "10us"}};
  s.flows = {json{{"direction", "tx"}, {"window", "64KiB"}, {"streams", 2}},
             json{{"direction", "rx"}, {"window", "64KiB"}, {"streams", 2}}};
  json r  = run(s);
  EXPECT_TRUE(r["components"]["vif"]["negotiated"]["split_event_channels"].get<bool>());
  auto q = queue(r, 0);
  // Ring suppression re-arms an event only after the previous one was handled: a port's bit never merges two.
  EXPECT_EQ(q["tx"]["frontend_coalesced"].get<int>() + q["rx"]["frontend_coalesced"].get<int>(), 0);
  EXPECT_EQ(q["tx"]["frontend_upcalls"], q["tx"]["responses_notified"]);
  EXPECT_EQ(q["rx"]["frontend_upcalls"], q["rx"]["responses_notified"]);
  EXPECT_GT(q["rx"]["frontend_upcalls"].get<int>(), 10);
}

TEST(XenNet, EachQueuesChannelsCarryTheRingRefsAndEventChannelsTheHandshakeWrote)
{
  for (bool split : {true, false}) {
    NetSetup s;
    s.vcpus  = 2;
    s.back   = {{"split_event_channels", split}};
    json doc = {{"name", "xen-net"}, {"duration_s", 0.001}, {"components", components(s)}};
    Simulation sim(scenario_from_json(doc, "xen-net")); // connect() performs the handshake; nothing runs
    xen::XenNetfront* front = nullptr;
    for (const auto& c : sim.components())
      if (c->name() == "vif")
        front = dynamic_cast<xen::XenNetfront*>(c.get());
    ASSERT_NE(front, nullptr);
    ASSERT_EQ(front->num_queues(), 2u);
    for (unsigned q = 0; q < 2; ++q) {
      const xen::NetifQueue& n = front->negotiation().queues.at(q);
      xen::VifQueue& b         = front->queue(q);
      EXPECT_EQ(b.tx.ring_refs(), std::vector<unsigned>{n.tx_ring_ref});
      EXPECT_EQ(b.rx.ring_refs(), std::vector<unsigned>{n.rx_ring_ref});
      EXPECT_NE(n.tx_ring_ref, n.rx_ring_ref);
      EXPECT_EQ(b.tx.frontend_evtchn(), n.tx_event_channel);
      EXPECT_EQ(b.rx.frontend_evtchn(), n.rx_event_channel);
      EXPECT_NE(b.tx.frontend_evtchn(), 0u);
      // Without split channels the Rx ring is served by the Tx channel's port ("event-channel").
      EXPECT_EQ(b.tx.frontend_evtchn() == b.rx.frontend_evtchn(), not split);
      EXPECT_EQ(&b.evtchn(true), split ? &b.rx : &b.tx);
    }
  }
}

TEST(XenNet, TxSteeringPutsEachFlowOnItsSkbHashQueue)
{
  NetSetup s;
  s.front = {{"max_queues", 4}};
  s.flows = {json{{"direction", "tx"}, {"streams", 8}, {"window", "256KiB"}}};
  json r  = run(s);
  std::vector<int> expected(4, 0);
  for (auto& st : r["components"]["flow0"]["streams"])
    expected[xen::netfront_select_queue(st["skb_hash"].get<std::uint32_t>(), 4)]++;
  int used = 0;
  for (int q = 0; q < 4; ++q) {
    double bps = queue(r, q)["tx"]["throughput_bps"].get<double>();
    EXPECT_EQ(bps > 0, expected[static_cast<std::size_t>(q)] > 0) << "queue " << q;
    used += bps > 0;
  }
  EXPECT_GE(used, 3) << "eight flows spread over the queues";
}

TEST(XenNet, RxSteeringWithoutControlRingScalesTheNicHashOverTheQueues)
{
  NetSetup s;
  s.front = {{"max_queues", 4}};
  s.flows = {json{{"direction", "rx"}, {"streams", 3}, {"window", "256KiB"}}};
  json r  = run(s);
  EXPECT_EQ(r["components"]["vif-be"]["hash_algorithm"], "none");
  std::vector<int> expected(4, 0);
  for (auto& st : r["components"]["flow0"]["streams"])
    expected[(static_cast<std::uint64_t>(st["toeplitz_hash"].get<std::uint32_t>()) * 4) >> 32]++;
  for (int q = 0; q < 4; ++q)
    EXPECT_EQ(queue(r, q)["rx"]["throughput_bps"].get<double>() > 0, expected[static_cast<std::size_t>(q)] > 0) << q;
}

TEST(XenNet, RxSteeringWithToeplitzFollowsTheMappingTable)
{
  NetSetup s;
  s.front = {{"max_queues", 4}, {"control_ring", true}};
  s.back  = {{"mapping", std::vector<int>(128, 2)}}; // every hash to queue 2
  s.flows = {json{{"direction", "rx"}, {"streams", 4}, {"window", "256KiB"}}};
  json r  = run(s);
  EXPECT_EQ(r["components"]["vif-be"]["hash_algorithm"], "toeplitz");
  for (int q = 0; q < 4; ++q)
    EXPECT_EQ(queue(r, q)["rx"]["throughput_bps"].get<double>() > 0, q == 2) << q;
}

TEST(XenNet, NapiTakesAtMostItsBudgetPerPoll)
{
  NetSetup s;
  s.front = {{"max_queues", 1}, {"rx_packet_cpu", "10us"}, {"napi_weight", 16}}; // a slow guest receiver
  s.flows = {json{{"direction", "rx"}, {"packet_size", "1448B"}, {"streams", 4}}};
  json r  = run(s, 0.004);
  auto q  = queue(r, 0);
  EXPECT_EQ(q["napi_max_packets_per_poll"], 16);
  EXPECT_GT(q["napi_budget_exhausted"].get<int>(), 0);
}

TEST(XenNet, EveryQueueAccountsForItsPackets)
{
  NetSetup s;
  s.flows       = {json{{"direction", "tx"}, {"streams", 4}}, json{{"direction", "rx"}, {"streams", 4}}};
  json r        = run(s, 0.0041);
  int in_flight = 0;
  for (auto& [name, c] : r["conservation"]["components"].items()) {
    EXPECT_TRUE(c["ok"].get<bool>()) << name;
    if (name.rfind("vif.", 0) == 0)
      in_flight += c["in_flight"].get<int>();
  }
  EXPECT_GT(in_flight, 0);
}

TEST(XenNet, AMappingToAMissingQueueIsBadInput)
{
  pvsim::test::TempDir dir;
  NetSetup s;
  s.front = {{"max_queues", 2}};
  s.back  = {{"mapping", {0, 1, 5}}};
  auto f  = dir.write("s.json", json{{"duration", "1ms"}, {"components", components(s)}}.dump());
  auto r  = pvsim::test::run_pvsim("check " + f);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("mapping"), std::string::npos) << r.output;
}

TEST(XenNet, AFlowMustTargetANetworkDriver)
{
  pvsim::test::TempDir dir;
  NetSetup s;
  s.flows = {json{{"direction", "tx"}}, json{{"direction", "tx"}, {"target", "eth0"}}};
  auto f  = dir.write("s.json", json{{"duration", "1ms"}, {"components", components(s)}}.dump());
  auto r  = pvsim::test::run_pvsim("check " + f);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("/components/flow1"), std::string::npos) << r.output;
}

namespace {
std::pair<unsigned, unsigned> channel_vcpus(const json& r, int q)
{
  return {queue(r, q)["tx"]["event_channel_vcpu"].get<unsigned>(),
          queue(r, q)["rx"]["event_channel_vcpu"].get<unsigned>()};
}
} // namespace

TEST(XenNet, A6xDomUBindsEachSplitChannelToTheLeastLoadedVcpuTxThenRx)
{
  NetSetup s;
  s.front = {{"max_queues", 2}};
  json r  = run(s, 0.002);
  EXPECT_EQ(r["components"]["vif"]["irq_affinity"], "balance");
  // After xenbus (vCPU 1) and the console (vCPU 2): q0-tx 3, q0-rx 0, q1-tx 1, q1-rx 2 (setup_netfront_split()).
  EXPECT_EQ(channel_vcpus(r, 0), std::make_pair(3u, 0u));
  EXPECT_EQ(channel_vcpus(r, 1), std::make_pair(1u, 2u));
}

TEST(XenNet, A510DomUBindsEveryChannelToVcpuZero)
{
  NetSetup s;
  s.front             = {{"max_queues", 2}};
  s.flows             = {json{{"direction", "tx"}, {"vm", "domU"}}};
  json c              = components(s);
  c["domU"]["kernel"] = "5.10";
  json doc = {{"name", "xen-net"}, {"seed", 3}, {"duration_s", 0.002}, {"warmup_s", 0.001}, {"components", c}};
  Simulation sim(scenario_from_json(doc, "xen-net"));
  json r = sim.run();
  EXPECT_EQ(r["components"]["vif"]["irq_affinity"], "cpu0");
  EXPECT_EQ(channel_vcpus(r, 0), std::make_pair(0u, 0u));
  EXPECT_EQ(channel_vcpus(r, 1), std::make_pair(0u, 0u));
}

TEST(XenNet, WithoutSplitChannelsEachQueueBindsOneChannel)
{
  NetSetup s;
  s.front = {{"max_queues", 2}};
  s.back  = {{"split_event_channels", false}};
  json r  = run(s, 0.002);
  EXPECT_EQ(channel_vcpus(r, 0), std::make_pair(3u, 3u));
  EXPECT_EQ(channel_vcpus(r, 1), std::make_pair(0u, 0u));
}

TEST(XenNet, NapiRunsOnTheRxChannelsVcpuAndTxCleanupOnTheTxChannels)
{
  // One queue, nothing bound before: Tx channel on vCPU 1, Rx channel on vCPU 2; the stream's reader on vCPU 0.
  NetSetup s;
  s.front = {{"max_queues", 1}, {"preceding_channels", 0}};
  s.flows = {json{{"direction", "rx"}}};
  json r  = run(s);
  EXPECT_EQ(channel_vcpus(r, 0), std::make_pair(1u, 2u));
  auto util = [&r](int v) {
    return r["components"]["domU"]["vcpus"][static_cast<std::size_t>(v)]["utilization"].get<double>();
  };
  EXPECT_GT(util(2), 0.05);          // xennet_poll() for every received packet
  EXPECT_LT(util(1), 0.1 * util(2)); // nothing is transmitted: the Tx interrupt has no work
  EXPECT_LT(util(3), 0.1 * util(2));
}
