/* Specification of the blkif handshake (xen-blkfront / xen-blkback) and of reading its outcome from a tree. */
#include "models/xen/blk/blkif_negotiation.hpp"
#include "tests/models/xen/xen_test_files.hpp"

#include "sim/input_error.hpp"

#include <gtest/gtest.h>

using namespace pvsim::xen;
using pvsim::xen::test::for_each_single_node_damage;
using pvsim::xen::test::input_error_of;
using pvsim::xen::test::lab_dump_path;
using pvsim::xen::test::read_text;

namespace {

/** The lab's set-up: dom0 backend with 4 queues and order-4 rings, the minimal hotplug script. */
VbdDevice lab_device(unsigned domid)
{
  VbdDevice d;
  d.frontend_domid = domid;
  d.script         = "/etc/xen/scripts/block-min";
  return d;
}

BlkfrontConfig frontend_with_max_queues(unsigned max_queues)
{
  BlkfrontConfig f;
  f.max_queues = max_queues; // xen_blkfront.max_queues=N on the guest's command line
  return f;
}

/** What the lab dumped: the backend listing, then the frontend listing. */
std::string as_dumped(const XenStore& s, unsigned domid)
{
  return s.ls_f("/local/domain/0/backend/vbd") + s.ls_f("/local/domain/" + std::to_string(domid) + "/device/vbd");
}

BlkifNegotiation handshake(XenStore& s, const VbdDevice& d, const BlkbackConfig& b, const BlkfrontConfig& f)
{
  BlkifHandshake h(s, d, b, f);
  h.run();
  return h.result();
}

XenStore lab_tree(const std::string& run)
{
  return read_xenstore_ls_f_file(lab_dump_path(run)).tree;
}

const std::string fe4 = "/local/domain/2/device/vbd/51712";

} // namespace

TEST(BlkifHandshake, OneQueueReproducesTheLabDumpKeyForKey)
{
  XenStore s;
  BlkifHandshake h(s, lab_device(1), BlkbackConfig{}, frontend_with_max_queues(1));
  h.run();
  EXPECT_EQ(as_dumped(s, 1), read_text(lab_dump_path("blkfront-max-queues-1")));
}

TEST(BlkifHandshake, FourQueuesReproduceTheLabDumpKeyForKey)
{
  XenStore s;
  BlkifHandshake h(s, lab_device(2), BlkbackConfig{}, frontend_with_max_queues(4));
  h.run();
  EXPECT_EQ(as_dumped(s, 2), read_text(lab_dump_path("blkfront-max-queues-4")));
}

TEST(BlkifHandshake, DrivesBothStateMachinesThroughTheStartupProtocol)
{
  XenStore s;
  BlkifHandshake h(s, lab_device(1), BlkbackConfig{}, BlkfrontConfig{});
  h.run(10.0, 0.5);
  using S = XenbusState;
  ASSERT_EQ(h.frontend().history().size(), 3u);
  EXPECT_EQ(h.frontend().history()[1].to, S::Initialised);
  EXPECT_EQ(h.frontend().history()[1].time, 11.5); // talk_to_blkback is the fourth step
  EXPECT_EQ(h.frontend().state(), S::Connected);
  ASSERT_EQ(h.backend().history().size(), 3u);
  EXPECT_EQ(h.backend().history()[1].to, S::InitWait);
  EXPECT_EQ(h.backend().history()[2].to, S::Connected);
  EXPECT_EQ(h.backend().history()[2].time, 12.0);
  EXPECT_TRUE(h.errors().empty());
}

TEST(BlkifHandshake, StepsComeInProtocolOrder)
{
  XenStore s;
  BlkifHandshake h(s, lab_device(1), BlkbackConfig{}, BlkfrontConfig{});
  EXPECT_EQ(h.advance(0), BlkifHandshake::Step::toolstack_create);
  EXPECT_EQ(h.advance(1), BlkifHandshake::Step::backend_probe);
  EXPECT_EQ(s.read(h.device().backend_path() + "/state"), "2");
  EXPECT_EQ(h.advance(2), BlkifHandshake::Step::hotplug_connected);
  EXPECT_EQ(h.advance(3), BlkifHandshake::Step::frontend_talk);
  EXPECT_EQ(s.read(h.device().frontend_path() + "/state"), "3");
  EXPECT_EQ(h.advance(4), BlkifHandshake::Step::backend_connect);
  EXPECT_EQ(h.advance(5), BlkifHandshake::Step::frontend_connect);
  EXPECT_EQ(h.advance(6), BlkifHandshake::Step::done);
}

TEST(BlkifNegotiationOutcome, FourQueueLabSetUp)
{
  XenStore s;
  auto n = handshake(s, lab_device(2), BlkbackConfig{}, frontend_with_max_queues(4));
  EXPECT_EQ(n.num_queues, 4u);
  EXPECT_EQ(n.ring_page_order, 0u); // blkfront max_ring_page_order defaults to 0 although the backend offers 4
  EXPECT_EQ(n.ring_slots, 32u);     // the guests' nr_tags=32
  EXPECT_TRUE(n.persistent_grants);
  EXPECT_EQ(n.max_indirect_segments, 32u); // min(backend 256, blkfront default 32)
  EXPECT_TRUE(n.flush);
  EXPECT_FALSE(n.fua); // feature-flush-cache wins over feature-barrier
  EXPECT_TRUE(n.discard);
  EXPECT_EQ(n.sectors, 2097152u);
  EXPECT_TRUE(n.connected());
  EXPECT_FALSE(n.fell_back);
}

TEST(BlkifNegotiationOutcome, DefaultQueuesAreAtMostFourAndAtMostTheVcpus)
{
  XenStore s1, s2;
  BlkbackConfig eight;
  eight.max_queues = 8;
  BlkfrontConfig two_vcpus;
  two_vcpus.online_cpus = 2;
  BlkfrontConfig eight_vcpus;
  eight_vcpus.online_cpus = 8;
  EXPECT_EQ(handshake(s1, lab_device(1), eight, two_vcpus).num_queues, 2u);
  EXPECT_EQ(handshake(s2, lab_device(1), eight, eight_vcpus).num_queues, 4u);
}

TEST(BlkifNegotiationOutcome, QueuesAreBoundedByTheBackend)
{
  XenStore s;
  BlkbackConfig two;
  two.max_queues = 2;
  EXPECT_EQ(handshake(s, lab_device(1), two, BlkfrontConfig{}).num_queues, 2u);
}

TEST(BlkifNegotiationOutcome, ABackendWithoutMultiQueueGetsOneQueueAtTopLevel)
{
  XenStore s;
  BlkbackConfig old;
  old.max_queues.reset();
  auto n = handshake(s, lab_device(1), old, BlkfrontConfig{});
  EXPECT_EQ(n.num_queues, 1u);
  EXPECT_TRUE(s.exists("/local/domain/1/device/vbd/51712/ring-ref"));
  EXPECT_FALSE(s.exists("/local/domain/1/device/vbd/51712/multi-queue-num-queues"));
}

TEST(BlkifNegotiationOutcome, ManyQueuesWritePerQueueKeysOnly)
{
  XenStore s;
  handshake(s, lab_device(2), BlkbackConfig{}, BlkfrontConfig{});
  EXPECT_EQ(s.read(fe4 + "/multi-queue-num-queues"), "4");
  EXPECT_EQ(s.read(fe4 + "/queue-3/event-channel"), "30");
  EXPECT_FALSE(s.exists(fe4 + "/ring-ref"));
  EXPECT_FALSE(s.exists(fe4 + "/event-channel"));
}

TEST(BlkifNegotiationOutcome, RingOrderIsTheSmallerOfBothMaxima)
{
  XenStore s;
  BlkfrontConfig f;
  f.max_ring_page_order = 2;
  auto n                = handshake(s, lab_device(1), BlkbackConfig{}, f);
  EXPECT_EQ(n.ring_page_order, 2u);
  EXPECT_EQ(n.ring_slots, 128u);
  EXPECT_EQ(n.rings[0].ring_refs.size(), 4u);
}

TEST(BlkifNegotiationOutcome, MultiPageRingsWriteRingPageOrderAndNumberedRingRefs)
{
  XenStore s;
  BlkfrontConfig f;
  f.max_ring_page_order = 1;
  handshake(s, lab_device(2), BlkbackConfig{}, f);
  EXPECT_EQ(s.read(fe4 + "/ring-page-order"), "1");
  EXPECT_EQ(s.read(fe4 + "/queue-0/ring-ref0"), "8");
  EXPECT_EQ(s.read(fe4 + "/queue-0/ring-ref1"), "9");
  EXPECT_EQ(s.read(fe4 + "/queue-1/ring-ref0"), "10");
  EXPECT_FALSE(s.exists(fe4 + "/queue-0/ring-ref"));
}

TEST(BlkifNegotiationOutcome, FrontendRingOrderIsCappedAtFour)
{
  XenStore s;
  BlkbackConfig b;
  b.max_ring_page_order = 6;
  BlkfrontConfig f;
  f.max_ring_page_order = 9;
  auto n                = handshake(s, lab_device(1), b, f);
  EXPECT_EQ(n.ring_page_order, 4u);
  EXPECT_EQ(n.ring_slots, 512u);
}

TEST(BlkifNegotiationOutcome, RingSlotsAre32TimesTwoToTheOrder)
{
  for (unsigned order = 0; order <= 4; ++order)
    EXPECT_EQ(blkif_ring_slots(order), 32u << order);
}

TEST(BlkifNegotiationOutcome, PersistentGrantsNeedBothEnds)
{
  XenStore s;
  BlkfrontConfig f;
  f.feature_persistent = false;
  auto n               = handshake(s, lab_device(1), BlkbackConfig{}, f);
  EXPECT_FALSE(n.persistent_grants);
  EXPECT_EQ(s.read("/local/domain/1/device/vbd/51712/feature-persistent"), "0");
}

TEST(BlkifNegotiationOutcome, IndirectSegmentsAreTheSmallerMaximum)
{
  XenStore s;
  BlkfrontConfig f;
  f.max_indirect_segments = 64;
  EXPECT_EQ(handshake(s, lab_device(1), BlkbackConfig{}, f).max_indirect_segments, 64u);
}

TEST(BlkifNegotiationOutcome, NoIndirectSegmentsWithoutTheBackendKey)
{
  XenStore s;
  BlkbackConfig b;
  b.max_indirect_segments.reset();
  auto n = handshake(s, lab_device(1), b, BlkfrontConfig{});
  EXPECT_EQ(n.max_indirect_segments, 0u);
  EXPECT_EQ(n.segments_per_request(), 11u);
}

TEST(BlkifNegotiationOutcome, ReadOnlyModeSetsVdiskReadonly)
{
  XenStore s;
  VbdDevice d = lab_device(1);
  d.mode.assign(1, 'r'); // (a plain = "r" trips GCC 12's false -Wrestrict warning)
  EXPECT_TRUE(handshake(s, d, BlkbackConfig{}, BlkfrontConfig{}).read_only());
}

TEST(BlkifNegotiationOutcome, DiscardDisabledByTheToolstackWritesNoDiscardKey)
{
  XenStore s;
  VbdDevice d      = lab_device(1);
  d.discard_enable = false;
  auto n           = handshake(s, d, BlkbackConfig{}, BlkfrontConfig{});
  EXPECT_FALSE(n.discard);
  EXPECT_FALSE(s.exists(d.backend_path() + "/feature-discard"));
}

TEST(BlkifNegotiationOutcome, BackendRefusalClosesTheBackend)
{
  XenStore s;
  BlkbackConfig none;
  none.max_queues = 0; // the frontend still asks for one queue, which blkback refuses
  BlkifHandshake h(s, lab_device(1), none, BlkfrontConfig{});
  h.run();
  EXPECT_EQ(h.backend().state(), XenbusState::Closing);
  EXPECT_EQ(h.frontend().state(), XenbusState::Initialised);
  ASSERT_EQ(h.errors().size(), 1u);
  EXPECT_NE(h.errors()[0].find("exceeding the maximum of 0"), std::string::npos);
}

TEST(BlkifNegotiationOutcome, ConvertsToJson)
{
  XenStore s;
  auto j = to_json(handshake(s, lab_device(2), BlkbackConfig{}, BlkfrontConfig{}));
  EXPECT_EQ(j["num_queues"], 4);
  EXPECT_EQ(j["rings"].size(), 4u);
  EXPECT_EQ(j["frontend_state"], "Connected");
}

TEST(BlkifExtraction, OneQueueLabDump)
{
  auto n = extract_blkif(lab_tree("blkfront-max-queues-1"), "/local/domain/1/device/vbd/51712");
  EXPECT_EQ(n.backend_path, "/local/domain/0/backend/vbd/1/51712");
  EXPECT_EQ(n.num_queues, 1u);
  ASSERT_EQ(n.rings.size(), 1u);
  EXPECT_EQ(n.rings[0].ring_refs, (std::vector<unsigned>{8}));
  EXPECT_EQ(n.rings[0].event_channel, 27u);
  EXPECT_EQ(n.ring_slots, 32u);
  EXPECT_TRUE(n.persistent_grants);
  EXPECT_TRUE(n.connected());
}

TEST(BlkifExtraction, FourQueueLabDump)
{
  auto n = extract_blkif(lab_tree("blkfront-max-queues-4"), fe4);
  EXPECT_EQ(n.num_queues, 4u);
  ASSERT_EQ(n.rings.size(), 4u);
  for (unsigned q = 0; q < 4; ++q) {
    EXPECT_EQ(n.rings[q].ring_refs, (std::vector<unsigned>{8 + q}));
    EXPECT_EQ(n.rings[q].event_channel, 27 + q);
  }
  EXPECT_EQ(n.ring_page_order, 0u);
  EXPECT_EQ(n.max_indirect_segments, 32u);
  EXPECT_FALSE(n.notes.empty()); // says the frontend's indirect maximum was assumed
}

TEST(BlkifExtraction, FindsEveryVbdOfATree)
{
  auto all = extract_all_blkif(lab_tree("blkfront-max-queues-4"));
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].frontend_path, fe4);
}

TEST(BlkifExtraction, ExtractionAgreesWithTheHandshake)
{
  XenStore s;
  BlkfrontConfig f;
  f.max_ring_page_order = 3;
  BlkifHandshake h(s, lab_device(2), BlkbackConfig{}, f);
  h.run();
  auto n = extract_blkif(s, fe4);
  EXPECT_EQ(n.num_queues, 4u);
  EXPECT_EQ(n.ring_page_order, 3u);
  EXPECT_EQ(n.rings[3].ring_refs.size(), 8u);
  EXPECT_EQ(n.rings[3].ring_refs.front(), 8u + 3 * 8);
}

TEST(BlkifInvalidTree, TooManyQueuesIsAnErrorNamingTheKey)
{
  XenStore t = lab_tree("blkfront-max-queues-4");
  t.write(fe4 + "/multi-queue-num-queues", "8");
  auto e = input_error_of([&] { extract_blkif(t, fe4, ExtractMode::strict, "dump.txt"); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->file(), "dump.txt");
  EXPECT_EQ(e->where(), fe4 + "/multi-queue-num-queues");
  EXPECT_NE(e->detail().find("exceeding the maximum of 4"), std::string::npos);
}

TEST(BlkifInvalidTree, TooManyQueuesFallsBackToQueueZeroWhenLenient)
{
  XenStore t = lab_tree("blkfront-max-queues-4");
  t.write(fe4 + "/multi-queue-num-queues", "8");
  auto n = extract_blkif(t, fe4, ExtractMode::lenient);
  EXPECT_TRUE(n.fell_back);
  EXPECT_EQ(n.num_queues, 1u);
  ASSERT_EQ(n.rings.size(), 1u);
  EXPECT_EQ(n.rings[0].event_channel, 27u);
  EXPECT_NE(n.notes.front().find("multi-queue-num-queues"), std::string::npos);
}

TEST(BlkifInvalidTree, ZeroQueuesIsAnError)
{
  XenStore t = lab_tree("blkfront-max-queues-4");
  t.write(fe4 + "/multi-queue-num-queues", "0");
  EXPECT_THROW(extract_blkif(t, fe4), pvsim::InputError);
}

TEST(BlkifInvalidTree, AMissingPerQueueKeyIsAnErrorNamingIt)
{
  XenStore t = lab_tree("blkfront-max-queues-4");
  t.remove(fe4 + "/queue-2/event-channel");
  auto e = input_error_of([&] { extract_blkif(t, fe4); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->where(), fe4 + "/queue-2/event-channel");
}

TEST(BlkifInvalidTree, AMissingQueueDirectoryFallsBackWhenLenient)
{
  XenStore t = lab_tree("blkfront-max-queues-4");
  t.remove(fe4 + "/queue-3");
  auto n = extract_blkif(t, fe4, ExtractMode::lenient);
  EXPECT_TRUE(n.fell_back);
  EXPECT_EQ(n.num_queues, 1u);
  ASSERT_EQ(n.rings.size(), 1u);
  EXPECT_EQ(n.rings[0].ring_refs, (std::vector<unsigned>{8}));
}

TEST(BlkifInvalidTree, RingOrderAboveTheBackendMaximumIsAnError)
{
  XenStore t     = lab_tree("blkfront-max-queues-1");
  std::string fe = "/local/domain/1/device/vbd/51712";
  t.write(fe + "/ring-page-order", "5");
  EXPECT_THROW(extract_blkif(t, fe), pvsim::InputError);
}

TEST(BlkifInvalidTree, RingPageOrderWithoutNumberedRingRefsIsAnError)
{
  // With ring-page-order present blkback reads ring-ref0.., never ring-ref.
  XenStore t     = lab_tree("blkfront-max-queues-1");
  std::string fe = "/local/domain/1/device/vbd/51712";
  t.write(fe + "/ring-page-order", "0");
  auto e = input_error_of([&] { extract_blkif(t, fe); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->where(), fe + "/ring-ref0");
  auto n = extract_blkif(t, fe, ExtractMode::lenient);
  EXPECT_TRUE(n.fell_back);
  EXPECT_EQ(n.rings.at(0).ring_refs, (std::vector<unsigned>{8}));
}

TEST(BlkifInvalidTree, NonNumericValuesAreErrors)
{
  XenStore t = lab_tree("blkfront-max-queues-4");
  t.write(fe4 + "/queue-1/ring-ref", "nine");
  EXPECT_THROW(extract_blkif(t, fe4), pvsim::InputError);
}

TEST(BlkifInvalidTree, AnUnknownProtocolIsAnError)
{
  XenStore t = lab_tree("blkfront-max-queues-4");
  t.write(fe4 + "/protocol", "sparc-abi");
  EXPECT_THROW(extract_blkif(t, fe4), pvsim::InputError);
}

TEST(BlkifInvalidTree, AMissingBackendIsAnErrorOrAbsentFeatures)
{
  XenStore t     = lab_tree("blkfront-max-queues-1");
  std::string fe = "/local/domain/1/device/vbd/51712";
  t.remove("/local/domain/0/backend/vbd/1/51712");
  EXPECT_THROW(extract_blkif(t, fe), pvsim::InputError);
  auto n = extract_blkif(t, fe, ExtractMode::lenient);
  EXPECT_EQ(n.num_queues, 1u);
  EXPECT_FALSE(n.persistent_grants);
  EXPECT_EQ(n.backend_state, XenbusState::Unknown);
}

TEST(BlkifInvalidTree, AMissingFrontendIsAnErrorInBothModes)
{
  XenStore t = lab_tree("blkfront-max-queues-1");
  EXPECT_THROW(extract_blkif(t, "/local/domain/9/device/vbd/51712", ExtractMode::lenient), pvsim::InputError);
}

TEST(BlkifInvalidTree, AnUnconnectedDeviceIsReportedInTheNotes)
{
  XenStore t     = lab_tree("blkfront-max-queues-1");
  std::string fe = "/local/domain/1/device/vbd/51712";
  t.write(fe + "/state", "3");
  auto n = extract_blkif(t, fe);
  EXPECT_FALSE(n.connected());
  EXPECT_EQ(n.frontend_state, XenbusState::Initialised);
  EXPECT_NE(n.notes.back().find("not connected"), std::string::npos);
}

TEST(BlkifInvalidTree, LenientReadingSurvivesAnySingleNodeRemovedOrGarbled)
{
  auto expect_lenient_reading = [](const XenStore& damaged, const std::string& p) {
    EXPECT_NO_THROW(extract_blkif(damaged, fe4, ExtractMode::lenient)) << p;
  };
  for_each_single_node_damage(lab_tree("blkfront-max-queues-4"), fe4, expect_lenient_reading);
}
