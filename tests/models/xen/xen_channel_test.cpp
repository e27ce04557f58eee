/* Specification of one frontend-backend channel of a Xen split driver: the shared ring, its grant references and the
 * event channel's two ends as xenbus_grant_ring() + xenbus_alloc_evtchn() / bind_interdomain set them up
 * (drivers/xen/xenbus/xenbus_client.c), with the late-EOI handling of drivers/xen/events/events_base.c. */
#include "models/xen/xen_channel.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

using namespace pvsim::xen;
using End = XenChannel::End;

// ---- Set-up ----

TEST(XenChannel, BindsTheFrontendPortToTheDomUsVcpuAndTheBackendPortToDom0s)
{
  XenChannel c(SharedRing(32), 3, 1);
  EXPECT_EQ(c.frontend().bound_vcpu(), 3u);
  EXPECT_EQ(c.backend().bound_vcpu(), 1u);
  EXPECT_EQ(&c.port(End::frontend), &c.frontend());
  EXPECT_EQ(&c.port(End::backend), &c.backend());
}

TEST(XenChannel, StartsWithAnEmptyRingAndQuietPorts)
{
  XenChannel c(SharedRing::blkif(1));
  EXPECT_EQ(c.ring().size(), 64u);
  EXPECT_EQ(c.ring().occupancy(), 0u);
  EXPECT_FALSE(c.frontend().pending());
  EXPECT_FALSE(c.backend().pending());
  EXPECT_FALSE(c.lateeoi_pending(End::frontend));
  EXPECT_FALSE(c.lateeoi_pending(End::backend));
}

TEST(XenChannel, KnowsNoGrantReferenceOrPortNumberBeforeTheNegotiation)
{
  XenChannel c(SharedRing(32));
  EXPECT_TRUE(c.ring_refs().empty());
  EXPECT_EQ(c.frontend_evtchn(), 0u);
  EXPECT_EQ(c.backend_evtchn(), 0u);
}

TEST(XenChannel, RecordsTheNegotiatedRingRefsAndPortNumbers)
{
  XenChannel c(SharedRing::blkif(1));
  c.set_negotiated({8, 9}, 27);
  EXPECT_EQ(c.ring_refs(), (std::vector<unsigned>{8, 9}));
  EXPECT_EQ(c.frontend_evtchn(), 27u);
  EXPECT_EQ(c.backend_evtchn(), 0u); // dom0's local port is not in XenStore
  c.set_negotiated({10}, 28, 5);
  EXPECT_EQ(c.backend_evtchn(), 5u);
}

// ---- Requests ----

TEST(XenChannel, PushingRequestsFillsThatManySlotsAndPublishesThem)
{
  XenChannel c(SharedRing(256));
  c.push_requests(18);
  EXPECT_EQ(c.ring().req_prod_pvt(), 18u);
  EXPECT_EQ(c.ring().req_prod(), 18u);
  EXPECT_EQ(c.ring().unconsumed_requests(), 18u);
}

TEST(XenChannel, TheFirstPushOfRequestsNotifiesTheBackend)
{
  XenChannel c(SharedRing(32));
  EXPECT_TRUE(c.push_requests());
  EXPECT_EQ(c.ring().request_notifications_sent(), 1u);
}

TEST(XenChannel, APushOfRequestsBeforeTheBackendReArmsReqEventIsSuppressed)
{
  XenChannel c(SharedRing(32));
  c.push_requests();
  EXPECT_FALSE(c.push_requests(2));
  EXPECT_EQ(c.ring().request_notifications_suppressed(), 1u);
}

TEST(XenChannel, APushOfRequestsAfterTheBackendsFinalCheckNotifiesAgain)
{
  XenChannel c(SharedRing(32));
  c.push_requests();
  c.ring().consume_request();
  EXPECT_FALSE(c.ring().final_check_for_requests()); // req_event = req_cons + 1
  EXPECT_TRUE(c.push_requests());
}

TEST(XenChannel, APushOfNoRequestNeverNotifies)
{
  XenChannel c(SharedRing(32));
  EXPECT_FALSE(c.push_requests(0));
  EXPECT_EQ(c.ring().req_prod(), 0u);
}

TEST(XenChannel, PushingMoreRequestsThanFreeSlotsThrows)
{
  XenChannel c(SharedRing(32));
  EXPECT_THROW(c.push_requests(33), std::logic_error);
}

// ---- Responses ----

TEST(XenChannel, PushingResponsesAnswersConsumedRequestsAndNotifiesTheFrontendFirstTime)
{
  XenChannel c(SharedRing(32));
  c.push_requests(3);
  for (int i = 0; i < 3; ++i)
    c.ring().consume_request();
  EXPECT_TRUE(c.push_responses(3));
  EXPECT_EQ(c.ring().rsp_prod(), 3u);
  EXPECT_EQ(c.ring().unconsumed_responses(), 3u);
  EXPECT_EQ(c.ring().response_notifications_sent(), 1u);
}

TEST(XenChannel, APushOfResponsesBeforeTheFrontendReArmsRspEventIsSuppressed)
{
  XenChannel c(SharedRing(32));
  c.push_requests(2);
  c.ring().consume_request();
  c.ring().consume_request();
  c.push_responses();
  EXPECT_FALSE(c.push_responses());
  EXPECT_EQ(c.ring().response_notifications_suppressed(), 1u);
}

TEST(XenChannel, PushingMoreResponsesThanConsumedRequestsThrows)
{
  XenChannel c(SharedRing(32));
  c.push_requests(2);
  c.ring().consume_request();
  EXPECT_THROW(c.push_responses(2), std::logic_error);
}

// ---- Late EOI ----

TEST(XenChannel, TheLateEoiAckMasksThePortClearsPendingAndMarksAnEoiDue)
{
  XenChannel c(SharedRing(32));
  ASSERT_TRUE(c.frontend().notify());
  c.lateeoi_ack(End::frontend);
  EXPECT_TRUE(c.frontend().masked());
  EXPECT_FALSE(c.frontend().pending());
  EXPECT_TRUE(c.lateeoi_pending(End::frontend));
}

TEST(XenChannel, TheEoiUnmasksThePortAndEndsTheDueEoi)
{
  XenChannel c(SharedRing(32));
  c.backend().notify();
  c.lateeoi_ack(End::backend);
  EXPECT_FALSE(c.lateeoi(End::backend));
  EXPECT_FALSE(c.backend().masked());
  EXPECT_FALSE(c.lateeoi_pending(End::backend));
}

TEST(XenChannel, ANotificationWhileTheEoiIsDueIsDeferredAndRaisedByTheEoi)
{
  XenChannel c(SharedRing(32));
  c.backend().notify();
  c.lateeoi_ack(End::backend);
  EXPECT_FALSE(c.backend().notify());
  EXPECT_EQ(c.backend().notifications_deferred(), 1u);
  EXPECT_TRUE(c.lateeoi(End::backend));
  EXPECT_EQ(c.backend().upcalls(), 2u);
}

TEST(XenChannel, AnEoiWithNoneDueDoesNothing)
{
  XenChannel c(SharedRing(32));
  c.frontend().notify();
  c.frontend().mask();
  EXPECT_FALSE(c.lateeoi(End::frontend));
  EXPECT_TRUE(c.frontend().masked()); // the explicit mask stays
  EXPECT_EQ(c.frontend().upcalls_raised_on_unmask(), 0u);
}

TEST(XenChannel, EachEndKeepsItsOwnLateEoiState)
{
  XenChannel c(SharedRing(32));
  c.frontend().notify();
  c.lateeoi_ack(End::frontend);
  EXPECT_FALSE(c.lateeoi_pending(End::backend));
  EXPECT_FALSE(c.backend().masked());
  EXPECT_FALSE(c.lateeoi(End::backend));
  EXPECT_TRUE(c.lateeoi_pending(End::frontend));
}

// ---- Statistics ----

TEST(XenChannel, TrackStatsRestartsTheRingsAndBothPortsCounters)
{
  XenChannel c(SharedRing(32));
  c.push_requests();
  c.ring().consume_request();
  c.push_responses();
  c.frontend().notify();
  c.backend().notify();
  pvsim::StatSet set;
  c.track_stats(set);
  set.restart(1.0);
  EXPECT_EQ(c.ring().request_notifications_sent(), 0u);
  EXPECT_EQ(c.ring().response_notifications_sent(), 0u);
  EXPECT_EQ(c.frontend().upcalls(), 0u);
  EXPECT_EQ(c.backend().upcalls(), 0u);
}
