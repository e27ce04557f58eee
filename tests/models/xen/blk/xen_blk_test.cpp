/* Xen blkfront/blkback: the negotiated rings, notification suppression, event-channel coalescing, persistent
 * grants, backend batching, conservation per ring. */
#include "tests/support/cli_support.hpp"

#include "models/xen/blk/xen_blkfront.hpp"
#include "tests/models/xen/blk/xen_blk_setup.hpp"

using namespace pvsim;
using namespace pvsim::test;

TEST(XenBlk, QueuesAreTheMinimumOfFrontendMaxBackendMaxAndVcpus)
{
  XenSetup s;
  s.vcpus      = 8;
  s.dom0_cores = 3; // blkback advertises multi-queue-max-queues = dom0's CPUs
  s.front      = {{"max_queues", 4}};
  json r       = run(s);
  EXPECT_EQ(r["components"]["xvda"]["negotiated"]["num_queues"], 3);
  EXPECT_EQ(r["components"]["blkmq"]["hw_queues"].size(), 3u);
  EXPECT_EQ(r["components"]["vbd"]["kthreads"].size(), 3u);
}

TEST(XenBlk, ASingleQueueGuestHasOneRing)
{
  XenSetup s;
  s.front = {{"max_queues", 1}};
  json r  = run(s);
  EXPECT_EQ(r["components"]["xvda"]["negotiated"]["num_queues"], 1);
  EXPECT_TRUE(r["queues"].contains("xvda.ring0"));
  EXPECT_FALSE(r["queues"].contains("xvda.ring1"));
}

TEST(XenBlk, RingSlotsAreThirtyTwoPerPageAndBecomeBlkMqTags)
{
  XenSetup s;
  s.front = {{"max_ring_page_order", 2}};
  json r  = run(s);
  EXPECT_EQ(r["components"]["xvda"]["negotiated"]["ring_page_order"], 2);
  EXPECT_EQ(r["components"]["xvda"]["rings"][0]["slots"], 128);
  EXPECT_EQ(r["components"]["blkmq"]["hw_queues"][0]["nr_tags"], 128);
}

TEST(XenBlk, EachRingsChannelCarriesTheRingRefsAndEventChannelTheHandshakeWrote)
{
  XenSetup s;
  s.vcpus  = 2;
  s.front  = {{"max_ring_page_order", 1}};
  json doc = {{"name", "xen"}, {"duration_s", 0.01}, {"components", components(s)}};
  Simulation sim(scenario_from_json(doc, "xen")); // connect() performs the handshake; nothing runs
  xen::XenBlkfront* front = nullptr;
  for (const auto& c : sim.components())
    if (c->name() == "xvda")
      front = dynamic_cast<xen::XenBlkfront*>(c.get());
  ASSERT_NE(front, nullptr);
  xen::XenBlkfront& f = *front;
  ASSERT_EQ(f.negotiation().num_queues, 2u);
  // talk_to_blkback(): grant references from 8, event channels from 27, ring by ring; dom0's ports are unknown.
  EXPECT_EQ(f.queue(0).channel.ring_refs(), (std::vector<unsigned>{8, 9}));
  EXPECT_EQ(f.queue(1).channel.ring_refs(), (std::vector<unsigned>{10, 11}));
  EXPECT_EQ(f.queue(0).channel.frontend_evtchn(), 27u);
  EXPECT_EQ(f.queue(1).channel.frontend_evtchn(), 28u);
  EXPECT_EQ(f.queue(1).channel.backend_evtchn(), 0u);
}

TEST(XenBlk, OneRequestAtATimeNotifiesEveryTimeBothWays)
{
  // With one request in flight the backend is idle at every push and the frontend at every response.
  XenSetup s;
  json r    = run(s);
  auto ring = r["components"]["xvda"]["rings"][0];
  EXPECT_GT(ring["requests_notified"].get<int>(), 100);
  EXPECT_EQ(ring["requests_suppressed"], 0);
  EXPECT_EQ(ring["responses_suppressed"], 0);
}

TEST(XenBlk, UnderLoadMostNotificationsAreSuppressed)
{
  XenSetup s;
  s.numjobs = 4;
  s.iodepth = 16;
  s.front   = {{"max_queues", 1}};
  json r    = run(s);
  auto ring = r["components"]["xvda"]["rings"][0];
  EXPECT_GT(ring["requests_suppressed"].get<double>(), 2 * ring["requests_notified"].get<double>());
  EXPECT_GT(ring["responses_suppressed"].get<double>(), 2 * ring["responses_notified"].get<double>());
  // The backend consumes several requests per pass.
  int multi = 0;
  for (auto& [n, count] : ring["backend_batches"].items())
    if (std::stoi(n) > 1)
      multi += count.get<int>();
  EXPECT_GT(multi, 0);
}

TEST(XenBlk, ResponsesArrivingDuringTheHandlerAreTakenWithoutANewNotification)
{
  XenSetup s;
  s.numjobs = 4;
  s.iodepth = 16;
  s.front   = {{"max_queues", 1}, {"irq_cpu", "20us"}}; // a slow handler lets responses pile up
  json r    = run(s);
  auto ring = r["components"]["xvda"]["rings"][0];
  EXPECT_GT(ring["max_responses_per_interrupt"].get<int>(), 4);
  // rsp_event is re-armed only by the handler's final check, so the backend never notifies a port that is still
  // pending: every notification raises its own upcall and the pending bit has nothing to coalesce (the bit's
  // coalescing itself is specified in event_channel_state_test.cpp).
  EXPECT_EQ(ring["frontend_upcalls"], ring["responses_notified"]);
  EXPECT_EQ(ring["frontend_coalesced"], 0);
  EXPECT_EQ(ring["backend_upcalls"], ring["requests_notified"]);
}

TEST(XenBlk, EventChannelsGoWhereLinuxBindsThemAfterXenbusAndTheConsole)
{
  XenSetup s;
  json r     = run(s);
  auto rings = r["components"]["xvda"]["rings"];
  ASSERT_EQ(rings.size(), 2u); // dom0 has 2 cores
  EXPECT_EQ(rings[0]["event_channel_vcpu"], 3);
  EXPECT_EQ(rings[1]["event_channel_vcpu"], 0);
}

TEST(XenBlk, SpreadBindsQueueQToVcpuQ)
{
  XenSetup s;
  s.front    = {{"irq_affinity", "spread"}};
  json r     = run(s);
  auto rings = r["components"]["xvda"]["rings"];
  ASSERT_EQ(rings.size(), 2u);
  EXPECT_EQ(rings[0]["event_channel_vcpu"], 0);
  EXPECT_EQ(rings[1]["event_channel_vcpu"], 1);
}

TEST(XenBlk, ExplicitIrqVcpusOverrideThePolicy)
{
  XenSetup s;
  s.front    = {{"irq_vcpus", {2, 2}}};
  json r     = run(s);
  auto rings = r["components"]["xvda"]["rings"];
  ASSERT_EQ(rings.size(), 2u);
  EXPECT_EQ(rings[0]["event_channel_vcpu"], 2);
  EXPECT_EQ(rings[1]["event_channel_vcpu"], 2);
}

TEST(XenBlk, WithoutPersistentGrantsTheBackendMapsEverySegment)
{
  XenSetup s;
  s.numjobs = 2;
  s.iodepth = 8;
  s.back    = {{"feature_persistent", false}, {"map_segment_cpu", "5us"}};
  json r    = run(s);
  EXPECT_FALSE(r["components"]["xvda"]["negotiated"]["persistent_grants"].get<bool>());
  double cpu_per_io = r["components"]["dom0"]["cpu_s"].get<double>() / r["queues"]["nullb0"]["requests"].get<double>();
  EXPECT_GT(cpu_per_io, 5e-6 + 2e-6); // map + request, beyond what persistent grants would cost
}

TEST(XenBlk, WithPersistentGrantsTheBackendSkipsTheMapping)
{
  XenSetup s;
  s.numjobs = 2;
  s.iodepth = 8;
  s.back    = {{"map_segment_cpu", "5us"}};
  json r    = run(s);
  EXPECT_TRUE(r["components"]["xvda"]["negotiated"]["persistent_grants"].get<bool>());
  double cpu_per_io = r["components"]["dom0"]["cpu_s"].get<double>() / r["queues"]["nullb0"]["requests"].get<double>();
  EXPECT_LT(cpu_per_io, 5e-6);
}

TEST(XenBlk, EveryRingAccountsForItsRequests)
{
  XenSetup s;
  s.numjobs = 4;
  s.iodepth = 32;
  json r    = run(s, 0.0101);
  for (auto& [name, c] : r["conservation"]["components"].items())
    EXPECT_TRUE(c["ok"].get<bool>()) << name;
  EXPECT_GT(r["conservation"]["components"]["xvda.ring0"]["in_flight"].get<int>(), 0);
}

TEST(XenBlk, ABackendWithoutFrontendIsBadInput)
{
  pvsim::test::TempDir dir;
  json comps     = components(XenSetup{});
  comps["spare"] = {{"type", "xen.blkback"}, {"cpus", "dom0"}, {"target", "nullb0"}};
  auto f         = dir.write("s.json", json{{"duration", "1ms"}, {"components", comps}}.dump());
  auto r         = pvsim::test::run_pvsim("check " + f);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("/components/spare"), std::string::npos) << r.output;
}

TEST(XenBlk, ARequestOfMoreThanElevenSegmentsAlsoGrantsItsIndirectPage)
{
  // 64 KiB = 16 segments > BLKIF_MAX_SEGMENTS_PER_REQUEST: BLKIF_OP_INDIRECT with one indirect page, 17 grants.
  XenSetup s;
  s.back             = {{"feature_persistent", false}, {"map_segment_cpu", "10us"}, {"request_cpu", "0us"},
                        {"response_cpu", "0us"},       {"wakeup_cpu", "0us"},       {"notify_cpu", "0us"}};
  json comps         = components(s);
  comps["fio"]["bs"] = "64KiB";
  json doc           = {{"name", "xen"}, {"seed", 3}, {"duration_s", 0.02}, {"warmup_s", 0.002}, {"components", comps}};
  Simulation sim(scenario_from_json(doc, "xen"));
  json r = sim.run();
  require_conservation(r);
  double cpu_per_io = r["components"]["dom0"]["cpu_s"].get<double>() / r["queues"]["nullb0"]["requests"].get<double>();
  EXPECT_NEAR(cpu_per_io, 17 * 10e-6, 0.5e-6);
}
