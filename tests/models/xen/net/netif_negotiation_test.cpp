/* Specification of the netif handshake (xen-netfront / xen-netback) and of reading its outcome from a tree. */
#include "models/xen/net/netif_negotiation.hpp"
#include "tests/models/xen/xen_test_files.hpp"

#include "sim/input_error.hpp"

#include <gtest/gtest.h>

using namespace pvsim::xen;
using pvsim::xen::test::data_path;
using pvsim::xen::test::for_each_single_node_damage;
using pvsim::xen::test::input_error_of;
using pvsim::xen::test::read_text;

namespace {

const std::string fe = "/local/domain/1/device/vif/0";
const std::string be = "/local/domain/0/backend/vif/1/0";

std::string as_dumped(const XenStore& s)
{
  return s.ls_f("/local/domain/0/backend/vif") + s.ls_f("/local/domain/1/device/vif");
}

NetifNegotiation handshake(XenStore& s, const NetbackConfig& b, const NetfrontConfig& f)
{
  NetifHandshake h(s, VifDevice{}, b, f);
  h.run();
  return h.result();
}

XenStore data_tree(const std::string& name)
{
  return read_xenstore_ls_f_file(data_path(name)).tree;
}

} // namespace

TEST(NetifHandshake, FourQueuesWithSplitEventChannelsWriteTheNetfrontLayout)
{
  XenStore s;
  NetifHandshake h(s, VifDevice{}, NetbackConfig{}, NetfrontConfig{});
  h.run();
  EXPECT_EQ(as_dumped(s), read_text(data_path("netfront-4q-split.txt")));
}

TEST(NetifHandshake, OneQueueStillWritesTheQueueCountButFlatKeys)
{
  XenStore s;
  NetfrontConfig f;
  f.max_queues = 1;
  handshake(s, NetbackConfig{}, f);
  EXPECT_EQ(as_dumped(s), read_text(data_path("netfront-1q.txt")));
  EXPECT_EQ(s.read(fe + "/multi-queue-num-queues"), "1");
  EXPECT_TRUE(s.exists(fe + "/tx-ring-ref"));
  EXPECT_FALSE(s.exists(fe + "/queue-0"));
}

TEST(NetifHandshake, WithoutSplitEventChannelsEachQueueHasOneEventChannel)
{
  XenStore s;
  NetbackConfig b;
  b.split_event_channels = false;
  NetfrontConfig f;
  f.online_cpus = 2;
  auto n        = handshake(s, b, f);
  EXPECT_EQ(as_dumped(s), read_text(data_path("netfront-2q-single-evtchn.txt")));
  EXPECT_FALSE(n.split_event_channels);
  EXPECT_EQ(n.queues[1].tx_event_channel, n.queues[1].rx_event_channel);
}

TEST(NetifHandshake, FrontendGoesStraightFromInitialisingToConnected)
{
  XenStore s;
  NetifHandshake h(s, VifDevice{}, NetbackConfig{}, NetfrontConfig{});
  h.run(0.0, 1.0);
  using S = XenbusState;
  ASSERT_EQ(h.frontend().history().size(), 2u);
  EXPECT_EQ(h.frontend().history()[1].from, S::Initialising);
  EXPECT_EQ(h.frontend().history()[1].to, S::Connected);
  EXPECT_EQ(h.frontend().history()[1].time, 3.0);
  EXPECT_EQ(h.backend().state(), S::Connected);
  EXPECT_EQ(h.backend().history().back().time, 4.0);
}

TEST(NetifNegotiationOutcome, DefaultQueuesAreAtMostEightAndAtMostTheVcpus)
{
  NetbackConfig sixteen;
  sixteen.max_queues = 16;
  NetfrontConfig twelve_vcpus;
  twelve_vcpus.online_cpus = 12;
  NetfrontConfig three_vcpus;
  three_vcpus.online_cpus = 3;
  XenStore s1, s2;
  EXPECT_EQ(handshake(s1, sixteen, twelve_vcpus).num_queues, 8u);
  EXPECT_EQ(handshake(s2, sixteen, three_vcpus).num_queues, 3u);
}

TEST(NetifNegotiationOutcome, AnExplicitMaxQueuesIsNotLimitedByTheVcpus)
{
  XenStore s;
  NetbackConfig sixteen;
  sixteen.max_queues = 16;
  NetfrontConfig f;
  f.max_queues  = 12;
  f.online_cpus = 2;
  EXPECT_EQ(handshake(s, sixteen, f).num_queues, 12u);
}

TEST(NetifNegotiationOutcome, QueuesAreBoundedByTheBackend)
{
  XenStore s;
  NetbackConfig two;
  two.max_queues = 2;
  EXPECT_EQ(handshake(s, two, NetfrontConfig{}).num_queues, 2u);
}

TEST(NetifNegotiationOutcome, ABackendWithoutMultiQueueGetsNoQueueCount)
{
  XenStore s;
  NetbackConfig old;
  old.max_queues.reset();
  auto n = handshake(s, old, NetfrontConfig{});
  EXPECT_EQ(n.num_queues, 1u);
  EXPECT_FALSE(s.exists(fe + "/multi-queue-num-queues"));
}

TEST(NetifNegotiationOutcome, RingsHave256SlotsEachWay)
{
  XenStore s;
  auto n = handshake(s, NetbackConfig{}, NetfrontConfig{});
  EXPECT_EQ(n.tx_ring_slots, 256u);
  EXPECT_EQ(n.rx_ring_slots, 256u);
}

TEST(NetifNegotiationOutcome, OffloadsNeedBothEnds)
{
  XenStore s;
  auto n = handshake(s, NetbackConfig{}, NetfrontConfig{});
  EXPECT_TRUE(n.rx_copy);
  EXPECT_TRUE(n.sg);
  EXPECT_TRUE(n.gso_tcpv4);
  EXPECT_TRUE(n.gso_tcpv6);
  s.write(be + "/feature-gso-tcpv6", "0");
  EXPECT_FALSE(extract_netif(s, fe).gso_tcpv6);
}

TEST(NetifNegotiationOutcome, LinuxNetfrontHasNoControlRingSoNoHashAlgorithm)
{
  XenStore s;
  auto n = handshake(s, NetbackConfig{}, NetfrontConfig{});
  EXPECT_FALSE(n.ctrl_ring);
  EXPECT_EQ(n.hash_algorithm, NetifHashAlgorithm::none);
  EXPECT_FALSE(s.exists(fe + "/ctrl-ring-ref"));
}

TEST(NetifNegotiationOutcome, AControlRingFrontendGetsToeplitz)
{
  XenStore s;
  NetfrontConfig f;
  f.control_ring = true;
  auto n         = handshake(s, NetbackConfig{}, f);
  EXPECT_TRUE(n.ctrl_ring);
  EXPECT_EQ(n.hash_algorithm, NetifHashAlgorithm::toeplitz);
  EXPECT_TRUE(s.exists(fe + "/event-channel-ctrl"));
}

TEST(NetifNegotiationOutcome, NoCommonHashAlgorithmFallsBackToNone)
{
  NetbackConfig b;
  b.hash_algorithms = {NetifHashAlgorithm::none};
  NetfrontConfig f;
  f.control_ring = true;
  std::string note;
  EXPECT_EQ(negotiate_hash_algorithm(b, f, &note), NetifHashAlgorithm::none);
  EXPECT_NE(note.find("no common hash algorithm"), std::string::npos);
  XenStore s;
  auto n = handshake(s, b, f);
  EXPECT_EQ(n.hash_algorithm, NetifHashAlgorithm::none);
  EXPECT_NE(n.notes.back().find("no common hash algorithm"), std::string::npos);
}

TEST(NetifNegotiationOutcome, AControlRingIsUselessWithoutTheBackendFeature)
{
  NetbackConfig b;
  b.ctrl_ring = false;
  NetfrontConfig f;
  f.control_ring = true;
  XenStore s;
  auto n = handshake(s, b, f);
  EXPECT_FALSE(n.ctrl_ring);
  EXPECT_EQ(n.hash_algorithm, NetifHashAlgorithm::none);
}

TEST(NetifNegotiationOutcome, HashAlgorithmNamesParse)
{
  EXPECT_EQ(parse_hash_algorithm("Toeplitz"), NetifHashAlgorithm::toeplitz);
  EXPECT_EQ(parse_hash_algorithm("none"), NetifHashAlgorithm::none);
  EXPECT_FALSE(parse_hash_algorithm("crc32"));
  EXPECT_EQ(to_string(NetifHashAlgorithm::toeplitz), "toeplitz");
}

TEST(NetifNegotiationOutcome, NoCopyingReceivePathMeansNoConnection)
{
  XenStore s;
  NetifHandshake h(s, VifDevice{}, NetbackConfig{}, NetfrontConfig{});
  h.advance(0);
  h.advance(1);
  s.write(be + "/feature-rx-copy", "0");
  h.run(2);
  EXPECT_EQ(h.frontend().state(), XenbusState::Initialising);
  EXPECT_EQ(h.backend().state(), XenbusState::InitWait);
  ASSERT_EQ(h.errors().size(), 1u);
}

TEST(NetifNegotiationOutcome, ConvertsToJson)
{
  XenStore s;
  auto j = to_json(handshake(s, NetbackConfig{}, NetfrontConfig{}));
  EXPECT_EQ(j["num_queues"], 4);
  EXPECT_EQ(j["split_event_channels"], true);
  EXPECT_EQ(j["hash_algorithm"], "none");
}

TEST(NetifExtraction, FourQueueSplitDump)
{
  auto n = extract_netif(data_tree("netfront-4q-split.txt"), fe);
  EXPECT_EQ(n.backend_path, be);
  EXPECT_EQ(n.num_queues, 4u);
  EXPECT_TRUE(n.split_event_channels);
  ASSERT_EQ(n.queues.size(), 4u);
  EXPECT_EQ(n.queues[2].tx_ring_ref, 12u);
  EXPECT_EQ(n.queues[2].rx_ring_ref, 13u);
  EXPECT_EQ(n.queues[2].tx_event_channel, 31u);
  EXPECT_EQ(n.queues[2].rx_event_channel, 32u);
  EXPECT_TRUE(n.connected());
  EXPECT_FALSE(n.fell_back);
}

TEST(NetifExtraction, OneQueueDumpReadsTheTopLevelKeys)
{
  auto n = extract_netif(data_tree("netfront-1q.txt"), fe);
  EXPECT_EQ(n.num_queues, 1u);
  ASSERT_EQ(n.queues.size(), 1u);
  EXPECT_EQ(n.queues[0].tx_ring_ref, 8u);
  EXPECT_TRUE(n.split_event_channels);
}

TEST(NetifExtraction, FindsEveryVifOfATree)
{
  auto all = extract_all_netif(data_tree("netfront-2q-single-evtchn.txt"));
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].num_queues, 2u);
  EXPECT_FALSE(all[0].split_event_channels);
}

TEST(NetifInvalidTree, TooManyQueuesIsAnErrorNamingTheKey)
{
  auto e = input_error_of(
      [&] { extract_netif(data_tree("netfront-invalid-too-many-queues.txt"), fe, ExtractMode::strict, "vif.txt"); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->file(), "vif.txt");
  EXPECT_EQ(e->where(), fe + "/multi-queue-num-queues");
  EXPECT_NE(e->detail().find("exceeding the maximum of 4"), std::string::npos);
}

TEST(NetifInvalidTree, TooManyQueuesFallsBackToQueueZeroWhenLenient)
{
  auto n = extract_netif(data_tree("netfront-invalid-too-many-queues.txt"), fe, ExtractMode::lenient);
  EXPECT_TRUE(n.fell_back);
  EXPECT_EQ(n.num_queues, 1u);
  ASSERT_EQ(n.queues.size(), 1u);
  EXPECT_EQ(n.queues[0].tx_event_channel, 27u);
}

TEST(NetifInvalidTree, AMissingPerQueueKeyIsAnErrorNamingIt)
{
  auto e = input_error_of([&] { extract_netif(data_tree("netfront-invalid-missing-queue-key.txt"), fe); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->where(), fe + "/queue-1/rx-ring-ref");
}

TEST(NetifInvalidTree, AMissingPerQueueKeyFallsBackWhenLenient)
{
  auto n = extract_netif(data_tree("netfront-invalid-missing-queue-key.txt"), fe, ExtractMode::lenient);
  EXPECT_TRUE(n.fell_back);
  EXPECT_EQ(n.num_queues, 1u);
  EXPECT_EQ(n.queues.at(0).rx_ring_ref, 9u);
}

TEST(NetifInvalidTree, ZeroQueuesIsAnError)
{
  XenStore t = data_tree("netfront-4q-split.txt");
  t.write(fe + "/multi-queue-num-queues", "0");
  EXPECT_THROW(extract_netif(t, fe), pvsim::InputError);
}

TEST(NetifInvalidTree, HalfASplitEventChannelPairFallsBackToTheSingleKey)
{
  XenStore t = data_tree("netfront-1q.txt");
  t.remove(fe + "/event-channel-rx");
  EXPECT_THROW(extract_netif(t, fe), pvsim::InputError); // no event-channel either
  t.write(fe + "/event-channel", "40");
  auto n = extract_netif(t, fe);
  EXPECT_EQ(n.queues[0].tx_event_channel, 40u);
  EXPECT_FALSE(n.split_event_channels);
}

TEST(NetifInvalidTree, AControlRingWithoutItsEventChannelIsAnError)
{
  XenStore t = data_tree("netfront-1q.txt");
  t.write(fe + "/ctrl-ring-ref", "20");
  auto e = input_error_of([&] { extract_netif(t, fe); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->where(), fe + "/event-channel-ctrl");
}

TEST(NetifInvalidTree, AControlRingInATreeLeavesTheHashAlgorithmUnknown)
{
  XenStore t = data_tree("netfront-1q.txt");
  t.write(fe + "/ctrl-ring-ref", "20");
  t.write(fe + "/event-channel-ctrl", "41");
  auto n = extract_netif(t, fe);
  EXPECT_TRUE(n.ctrl_ring);
  EXPECT_FALSE(n.hash_algorithm.has_value());
}

TEST(NetifInvalidTree, AMissingFrontendIsAnErrorInBothModes)
{
  EXPECT_THROW(extract_netif(data_tree("netfront-1q.txt"), "/local/domain/1/device/vif/7", ExtractMode::lenient),
               pvsim::InputError);
}

TEST(NetifInvalidTree, LenientReadingSurvivesAnySingleNodeRemovedOrGarbled)
{
  auto expect_lenient_reading = [](const XenStore& damaged, const std::string& path) {
    EXPECT_NO_THROW(extract_netif(damaged, fe, ExtractMode::lenient)) << path;
  };
  for_each_single_node_damage(data_tree("netfront-4q-split.txt"), fe, expect_lenient_reading);
}
