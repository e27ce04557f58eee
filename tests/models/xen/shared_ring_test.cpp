/* Specification of a Xen shared I/O ring's indices (xen/include/public/io/ring.h) as the Linux block drivers use them.
 *
 * The driver helpers below follow the call sequences of drivers/block/xen-blkfront.c (blkif_queue_rq() pushes after
 * every request; blkif_interrupt() consumes, then final-checks) and drivers/block/xen-blkback/blkback.c
 * (do_block_io_op(): consume everything, final-check, repeat; make_response() pushes each response). */
#include "models/xen/shared_ring.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

using namespace pvsim::xen;

namespace {

/** blkif_queue_rq(): one request, then flush_requests(). Returns whether the back end is notified. */
bool frontend_queues_one(SharedRing& r)
{
  r.produce_request();
  return r.push_requests_and_check_notify();
}

/** The consumer loop of __do_block_io_op() alone: takes what is published, without the final check. */
unsigned backend_consumes_published(SharedRing& r)
{
  unsigned n = 0;
  while (r.unconsumed_requests() > 0 && !r.request_cons_overflow()) {
    r.consume_request();
    ++n;
  }
  return n;
}

/** do_block_io_op(): consumer passes until RING_FINAL_CHECK_FOR_REQUESTS finds nothing. */
unsigned backend_drains(SharedRing& r)
{
  unsigned n = 0;
  do
    n += backend_consumes_published(r);
  while (r.final_check_for_requests());
  return n;
}

/** make_response(): one response, pushed on its own. Returns whether the front end is notified. */
bool backend_responds_one(SharedRing& r)
{
  r.produce_response();
  return r.push_responses_and_check_notify();
}

/** blkif_interrupt(): consume every published response, final-check, repeat. */
unsigned frontend_interrupt(SharedRing& r)
{
  unsigned n = 0;
  do {
    while (r.unconsumed_responses() > 0) {
      r.consume_response();
      ++n;
    }
  } while (r.final_check_for_responses());
  return n;
}

constexpr RingIdx near_wrap = 0xFFFFFFF0u; // 2^32 - 16

} // namespace

// ---- Construction ----

TEST(SharedRing, AFreshRingHasEveryIndexAtZeroAndBothEventsAtOne)
{
  SharedRing r(32);
  EXPECT_EQ(r.size(), 32u);
  EXPECT_EQ(r.req_prod(), 0u);
  EXPECT_EQ(r.rsp_prod(), 0u);
  EXPECT_EQ(r.req_event(), 1u);
  EXPECT_EQ(r.rsp_event(), 1u);
  EXPECT_EQ(r.req_prod_pvt(), 0u);
  EXPECT_EQ(r.rsp_cons(), 0u);
  EXPECT_EQ(r.req_cons(), 0u);
  EXPECT_EQ(r.rsp_prod_pvt(), 0u);
  EXPECT_EQ(r.free_requests(), 32u);
  EXPECT_EQ(r.occupancy(), 0u);
}

TEST(SharedRing, ASizeThatIsNotAPowerOfTwoIsRejected)
{
  EXPECT_THROW(SharedRing(0), std::invalid_argument);
  EXPECT_THROW(SharedRing(48), std::invalid_argument);
  EXPECT_NO_THROW(SharedRing(1));
}

TEST(SharedRing, ABlkifRingHas32SlotsPerPage)
{
  EXPECT_EQ(SharedRing::blkif(0).size(), 32u);
  EXPECT_EQ(SharedRing::blkif(1).size(), 64u);
  EXPECT_EQ(SharedRing::blkif(4).size(), 512u);
}

TEST(SharedRing, AttachingAtAnIndexStartsEveryIndexThere)
{
  SharedRing r(32, near_wrap);
  EXPECT_EQ(r.req_prod(), near_wrap);
  EXPECT_EQ(r.rsp_cons(), near_wrap);
  EXPECT_EQ(r.req_event(), near_wrap + 1);
  EXPECT_EQ(r.free_requests(), 32u);
}

// ---- Front end: producing requests ----

TEST(SharedRing, ProducedRequestsStayInvisibleToTheBackendUntilPushed)
{
  SharedRing r(32);
  r.produce_request();
  r.produce_request();
  EXPECT_EQ(r.req_prod_pvt(), 2u);
  EXPECT_EQ(r.req_prod(), 0u);
  EXPECT_EQ(r.unconsumed_requests(), 0u);
  r.push_requests_and_check_notify();
  EXPECT_EQ(r.req_prod(), 2u);
  EXPECT_EQ(r.unconsumed_requests(), 2u);
}

TEST(SharedRing, ASlotIsFreedOnlyWhenTheFrontendConsumesItsResponse)
{
  SharedRing r(32);
  frontend_queues_one(r);
  EXPECT_EQ(r.free_requests(), 31u);
  backend_drains(r);
  EXPECT_EQ(r.free_requests(), 31u);
  backend_responds_one(r);
  EXPECT_EQ(r.free_requests(), 31u);
  r.consume_response();
  EXPECT_EQ(r.free_requests(), 32u);
}

TEST(SharedRing, TheRingIsFullWithSizeRequestsUnanswered)
{
  SharedRing r(32);
  for (int i = 0; i < 31; ++i)
    r.produce_request();
  EXPECT_FALSE(r.full());
  r.produce_request();
  EXPECT_TRUE(r.full());
  EXPECT_EQ(r.free_requests(), 0u);
}

TEST(SharedRing, ProducingOnAFullRingIsAnError)
{
  SharedRing r(4);
  for (int i = 0; i < 4; ++i)
    r.produce_request();
  EXPECT_THROW(r.produce_request(), std::logic_error);
}

// ---- Notification hold-off, requests ----

TEST(SharedRing, TheFirstPushOnAFreshRingNotifiesTheBackend)
{
  SharedRing r(32);
  EXPECT_TRUE(frontend_queues_one(r));
  EXPECT_EQ(r.request_notifications_sent(), 1u);
}

TEST(SharedRing, APushWithNothingNewNeitherNotifiesNorCounts)
{
  SharedRing r(32);
  EXPECT_FALSE(r.push_requests_and_check_notify());
  EXPECT_EQ(r.request_notifications_sent(), 0u);
  EXPECT_EQ(r.request_notifications_suppressed(), 0u);
}

TEST(SharedRing, AFrontendThatPushesThreeRequestsWhileTheBackendIsStillConsumingSendsOneNotificationNotThree)
{
  SharedRing r(32);
  EXPECT_TRUE(frontend_queues_one(r));
  backend_consumes_published(r); // the back end is in its loop: it has not final-checked yet
  EXPECT_FALSE(frontend_queues_one(r));
  EXPECT_FALSE(frontend_queues_one(r));
  EXPECT_EQ(r.request_notifications_sent(), 1u);
  EXPECT_EQ(r.request_notifications_suppressed(), 2u);
}

TEST(SharedRing, ThreeRequestsPushedOneByOneBeforeTheBackendWakesSendOneNotification)
{
  SharedRing r(32);
  EXPECT_TRUE(frontend_queues_one(r));
  EXPECT_FALSE(frontend_queues_one(r));
  EXPECT_FALSE(frontend_queues_one(r));
  EXPECT_EQ(r.request_notifications_sent(), 1u);
}

TEST(SharedRing, ABatchPushedAtOnceSendsOneNotification)
{
  SharedRing r(32);
  for (int i = 0; i < 3; ++i)
    r.produce_request();
  EXPECT_TRUE(r.push_requests_and_check_notify());
  EXPECT_EQ(r.request_notifications_sent(), 1u);
  EXPECT_EQ(r.request_notifications_suppressed(), 0u);
}

TEST(SharedRing, TheBackendsFinalCheckPicksUpRequestsPushedWithoutNotification)
{
  SharedRing r(32);
  frontend_queues_one(r);
  EXPECT_EQ(backend_consumes_published(r), 1u);
  frontend_queues_one(r); // silent: the back end is still awake
  frontend_queues_one(r);
  EXPECT_TRUE(r.final_check_for_requests());
  EXPECT_EQ(backend_consumes_published(r), 2u);
  EXPECT_FALSE(r.final_check_for_requests());
}

TEST(SharedRing, AfterTheBackendsFinalCheckFindsNothingTheNextPushNotifies)
{
  SharedRing r(32);
  frontend_queues_one(r);
  EXPECT_EQ(backend_drains(r), 1u);
  EXPECT_EQ(r.req_event(), r.req_cons() + 1);
  EXPECT_TRUE(frontend_queues_one(r));
  EXPECT_EQ(r.request_notifications_sent(), 2u);
}

TEST(SharedRing, ABackendDrainingRequestsThatKeepArrivingIsNotifiedOnceForAll)
{
  SharedRing r(32);
  frontend_queues_one(r);
  backend_consumes_published(r);
  for (int i = 0; i < 5; ++i)
    frontend_queues_one(r);
  EXPECT_EQ(backend_drains(r), 5u);
  EXPECT_EQ(r.request_notifications_sent(), 1u);
  EXPECT_EQ(r.request_notifications_suppressed(), 5u);
  EXPECT_TRUE(frontend_queues_one(r)); // the back end went to sleep: wake it
}

TEST(SharedRing, APushNotifiesWhenTheEventIndexLiesAnywhereInThePushedRange)
{
  SharedRing r(32);
  frontend_queues_one(r);
  backend_drains(r); // req_event = 2
  for (int i = 0; i < 4; ++i)
    r.produce_request();
  EXPECT_TRUE(r.push_requests_and_check_notify()); // (1, 5] contains 2
}

// ---- Notification hold-off, responses ----

TEST(SharedRing, TheFirstResponseOnAFreshRingNotifiesTheFrontend)
{
  SharedRing r(32);
  frontend_queues_one(r);
  backend_drains(r);
  EXPECT_TRUE(backend_responds_one(r));
}

TEST(SharedRing, ResponsesPushedWhileTheFrontendsInterruptHandlerIsStillConsumingAreNotNotified)
{
  SharedRing r(32);
  frontend_queues_one(r);
  frontend_queues_one(r);
  backend_drains(r);
  EXPECT_TRUE(backend_responds_one(r));
  r.consume_response();                  // blkif_interrupt() is in its loop
  EXPECT_FALSE(backend_responds_one(r)); // rsp_event is still 1
  EXPECT_EQ(r.response_notifications_sent(), 1u);
  EXPECT_EQ(r.response_notifications_suppressed(), 1u);
  EXPECT_TRUE(r.final_check_for_responses()); // and the handler's final check finds it
  EXPECT_EQ(r.unconsumed_responses(), 1u);
}

TEST(SharedRing, AfterTheFrontendsFinalCheckFindsNothingTheNextResponseNotifies)
{
  SharedRing r(32);
  frontend_queues_one(r);
  frontend_queues_one(r);
  backend_drains(r);
  backend_responds_one(r);
  EXPECT_EQ(frontend_interrupt(r), 1u);
  EXPECT_EQ(r.rsp_event(), r.rsp_cons() + 1);
  EXPECT_TRUE(backend_responds_one(r));
}

TEST(SharedRing, AFullRoundTripCostsOneNotificationEachWay)
{
  SharedRing r(32);
  EXPECT_TRUE(frontend_queues_one(r));
  backend_drains(r);
  EXPECT_TRUE(backend_responds_one(r));
  EXPECT_EQ(frontend_interrupt(r), 1u);
  EXPECT_EQ(r.occupancy(), 0u);
  EXPECT_EQ(r.request_notifications_sent(), 1u);
  EXPECT_EQ(r.response_notifications_sent(), 1u);
}

// ---- Back end: consuming and the overflow checks ----

TEST(SharedRing, ConsumingWithNothingPublishedIsAnError)
{
  SharedRing r(32);
  r.produce_request(); // produced, not pushed
  EXPECT_THROW(r.consume_request(), std::logic_error);
}

TEST(SharedRing, RespondingWithoutAConsumedRequestIsAnError)
{
  SharedRing r(32);
  EXPECT_THROW(r.produce_response(), std::logic_error);
}

TEST(SharedRing, ConsumingAResponseThatWasNotPushedIsAnError)
{
  SharedRing r(32);
  frontend_queues_one(r);
  backend_drains(r);
  r.produce_response(); // not pushed
  EXPECT_THROW(r.consume_response(), std::logic_error);
}

TEST(SharedRing, ABackendThatConsumedAWholeRingWithoutRespondingWouldOverflowOnTheNextRequest)
{
  SharedRing r(32);
  for (int i = 0; i < 32; ++i)
    r.produce_request();
  r.push_requests_and_check_notify();
  for (int i = 0; i < 31; ++i)
    r.consume_request();
  EXPECT_FALSE(r.request_cons_overflow());
  r.consume_request();
  EXPECT_TRUE(r.request_cons_overflow());
  r.produce_response();
  EXPECT_FALSE(r.request_cons_overflow());
}

TEST(SharedRing, AWellBehavedFrontendNeverTripsTheProducerOverflowCheck)
{
  SharedRing r(32);
  for (int i = 0; i < 32; ++i)
    r.produce_request();
  r.push_requests_and_check_notify();
  EXPECT_FALSE(r.request_prod_overflow());
}

TEST(SharedRing, UnconsumedRequestsAreClampedByTheResponseSlotsLeft)
{
  SharedRing r(32);
  r.write_req_prod_as_rogue_frontend(40);
  EXPECT_TRUE(r.request_prod_overflow());
  EXPECT_EQ(r.unconsumed_requests(), 32u); // not 40
  for (int i = 0; i < 5; ++i)
    r.consume_request();
  EXPECT_EQ(r.unconsumed_requests(), 27u); // min(35, 32 - 5)
  EXPECT_EQ(backend_consumes_published(r), 27u);
  EXPECT_TRUE(r.request_cons_overflow());
}

// ---- Wrap-around of the 32-bit indices ----

TEST(SharedRing, IndicesWrapPastTwoToThe32LikeXensRingIdx)
{
  SharedRing r(32, near_wrap);
  for (int i = 0; i < 32; ++i)
    r.produce_request();
  EXPECT_EQ(r.req_prod_pvt(), 0x10u); // wrapped
  EXPECT_TRUE(r.full());
  EXPECT_EQ(r.occupancy(), 32u);
  EXPECT_TRUE(r.push_requests_and_check_notify());
  EXPECT_EQ(r.unconsumed_requests(), 32u);
  EXPECT_EQ(backend_drains(r), 32u);
  EXPECT_TRUE(r.request_cons_overflow());
  for (int i = 0; i < 32; ++i)
    r.produce_response();
  EXPECT_TRUE(r.push_responses_and_check_notify());
  EXPECT_EQ(frontend_interrupt(r), 32u);
  EXPECT_EQ(r.free_requests(), 32u);
  EXPECT_EQ(r.occupancy(), 0u);
}

TEST(SharedRing, TheHoldOffTestWorksWhenTheEventIndexHasWrappedToZero)
{
  SharedRing r(32, 0xFFFFFFFEu);
  frontend_queues_one(r); // req_prod = 0xFFFFFFFF
  backend_drains(r);      // req_event = req_cons + 1 = 0
  EXPECT_EQ(r.req_event(), 0u);
  r.produce_request();
  r.produce_request();
  EXPECT_TRUE(r.push_requests_and_check_notify()); // (0xFFFFFFFF, 1] contains 0
  EXPECT_FALSE(frontend_queues_one(r));            // (1, 2] does not
}

TEST(SharedRing, ManyRoundTripsAcrossTheWrapEachCostOneNotificationPerDirection)
{
  SharedRing r(8, 0xFFFFFFFFu - 50);
  for (int i = 0; i < 100; ++i) {
    EXPECT_TRUE(frontend_queues_one(r)) << "round trip " << i;
    EXPECT_EQ(backend_drains(r), 1u);
    EXPECT_TRUE(backend_responds_one(r)) << "round trip " << i;
    EXPECT_EQ(frontend_interrupt(r), 1u);
  }
  EXPECT_EQ(r.request_notifications_sent(), 100u);
  EXPECT_EQ(r.response_notifications_sent(), 100u);
  EXPECT_EQ(r.request_notifications_suppressed(), 0u);
  EXPECT_EQ(r.occupancy(), 0u);
}

// ---- Occupancy ----

TEST(SharedRing, OccupancyCountsRequestsFromProductionUntilTheirResponseIsConsumed)
{
  SharedRing r(32);
  r.produce_request();
  r.produce_request();
  EXPECT_EQ(r.occupancy(), 2u); // produced, not even pushed
  r.push_requests_and_check_notify();
  backend_drains(r);
  backend_responds_one(r);
  backend_responds_one(r);
  EXPECT_EQ(r.occupancy(), 2u); // answered, not yet consumed by the front end
  r.consume_response();
  EXPECT_EQ(r.occupancy(), 1u);
  EXPECT_EQ(r.occupancy(), r.size() - r.free_requests());
}
