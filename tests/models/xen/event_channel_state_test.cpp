/* Specification of one event channel port's pending and mask bits (2-level ABI: xen/common/event_2l.c) and of the
 * Linux guest's handling order (drivers/xen/events/events_base.c: ack before the handler, late EOI). */
#include "models/xen/event_channel_state.hpp"

#include <gtest/gtest.h>

using namespace pvsim::xen;

// ---- Notification ----

TEST(EventChannelState, AFreshPortIsUnmaskedAndQuiet)
{
  EventChannelState p;
  EXPECT_FALSE(p.pending());
  EXPECT_FALSE(p.masked());
  EXPECT_EQ(p.bound_vcpu(), 0u);
  EXPECT_EQ(p.upcalls(), 0u);
}

TEST(EventChannelState, TheFirstNotificationRaisesAnUpcall)
{
  EventChannelState p;
  EXPECT_TRUE(p.notify());
  EXPECT_TRUE(p.pending());
  EXPECT_EQ(p.notifications_raised(), 1u);
}

TEST(EventChannelState, ANotificationWhileThePortIsPendingIsCoalesced)
{
  EventChannelState p;
  p.notify();
  EXPECT_FALSE(p.notify());
  EXPECT_TRUE(p.pending());
  EXPECT_EQ(p.notifications_raised(), 1u);
  EXPECT_EQ(p.notifications_coalesced(), 1u);
}

TEST(EventChannelState, ManyNotificationsBeforeTheHandlerRunsRaiseOneUpcall)
{
  EventChannelState p;
  for (int i = 0; i < 5; ++i)
    p.notify();
  EXPECT_EQ(p.upcalls(), 1u);
  EXPECT_EQ(p.notifications_coalesced(), 4u);
}

// ---- The guest's handler ----

TEST(EventChannelState, TheHandlerClearsPendingBeforeItRuns)
{
  EventChannelState p;
  p.notify();
  p.begin_handling();
  EXPECT_FALSE(p.pending());
}

TEST(EventChannelState, ANotificationDuringTheHandlerIsNotLostButRaisesAnotherUpcall)
{
  EventChannelState p;
  p.notify();
  p.begin_handling();
  EXPECT_TRUE(p.notify()); // pending was cleared before the handler, so this one counts
  EXPECT_EQ(p.upcalls(), 2u);
  EXPECT_EQ(p.notifications_coalesced(), 0u);
}

// ---- Mask ----

TEST(EventChannelState, AMaskedPortKeepsANotificationPendingWithoutAnUpcall)
{
  EventChannelState p;
  p.mask();
  EXPECT_FALSE(p.notify());
  EXPECT_TRUE(p.pending());
  EXPECT_EQ(p.upcalls(), 0u);
  EXPECT_EQ(p.notifications_deferred(), 1u);
}

TEST(EventChannelState, UnmaskingAPendingPortRaisesTheUpcall)
{
  EventChannelState p;
  p.mask();
  p.notify();
  EXPECT_TRUE(p.unmask());
  EXPECT_FALSE(p.masked());
  EXPECT_EQ(p.upcalls_raised_on_unmask(), 1u);
  EXPECT_EQ(p.upcalls(), 1u);
}

TEST(EventChannelState, UnmaskingAQuietPortRaisesNothing)
{
  EventChannelState p;
  p.mask();
  EXPECT_FALSE(p.unmask());
  EXPECT_EQ(p.upcalls(), 0u);
}

TEST(EventChannelState, NotificationsToAMaskedPendingPortCoalesce)
{
  EventChannelState p;
  p.mask();
  p.notify();
  EXPECT_FALSE(p.notify());
  EXPECT_EQ(p.notifications_deferred(), 1u);
  EXPECT_EQ(p.notifications_coalesced(), 1u);
  EXPECT_TRUE(p.unmask());
  EXPECT_EQ(p.upcalls(), 1u);
}

// ---- Late EOI (xen-blkfront, xen-blkback) ----

TEST(EventChannelState, ALateEoiHandlerRunsMaskedWithPendingCleared)
{
  EventChannelState p;
  p.notify();
  p.begin_handling_late_eoi();
  EXPECT_TRUE(p.masked());
  EXPECT_FALSE(p.pending());
}

TEST(EventChannelState, NotificationsDuringALateEoiHandlerAreRaisedAtTheEoi)
{
  EventChannelState p;
  p.notify();
  p.begin_handling_late_eoi();
  EXPECT_FALSE(p.notify());
  EXPECT_FALSE(p.notify());
  EXPECT_TRUE(p.late_eoi());
  EXPECT_EQ(p.upcalls(), 2u); // the first, and one at the EOI for both that arrived meanwhile
  EXPECT_FALSE(p.masked());
}

TEST(EventChannelState, ALateEoiWithNothingNewRaisesNothing)
{
  EventChannelState p;
  p.notify();
  p.begin_handling_late_eoi();
  EXPECT_FALSE(p.late_eoi());
  EXPECT_FALSE(p.masked());
  EXPECT_EQ(p.upcalls(), 1u);
}

TEST(EventChannelState, AnExplicitMaskOutlivesTheLateEoi)
{
  EventChannelState p;
  p.notify();
  p.begin_handling_late_eoi();
  p.mask(); // disable_irq() while the handler runs
  p.notify();
  EXPECT_FALSE(p.late_eoi());
  EXPECT_TRUE(p.masked());
  EXPECT_TRUE(p.unmask());
  EXPECT_EQ(p.upcalls(), 2u);
}

TEST(EventChannelState, UnmaskingDuringALateEoiHandlerDoesNotEndTheEoiMask)
{
  EventChannelState p;
  p.notify();
  p.begin_handling_late_eoi();
  p.notify();
  EXPECT_FALSE(p.unmask()); // no explicit mask to drop; the EOI mask stays
  EXPECT_TRUE(p.masked());
  EXPECT_TRUE(p.late_eoi());
}

// ---- Binding ----

TEST(EventChannelState, RebindingSendsLaterUpcallsToTheNewVcpu)
{
  EventChannelState p(0);
  EXPECT_FALSE(p.rebind(3));
  EXPECT_EQ(p.bound_vcpu(), 3u);
  EXPECT_TRUE(p.notify());
}

TEST(EventChannelState, RebindingAPendingPortRaisesItOnTheNewVcpu)
{
  EventChannelState p(0);
  p.notify();
  EXPECT_TRUE(p.rebind(1));
  EXPECT_EQ(p.upcalls(), 2u);
}

TEST(EventChannelState, RebindingAMaskedPendingPortWaitsForTheUnmask)
{
  EventChannelState p(0);
  p.mask();
  p.notify();
  EXPECT_FALSE(p.rebind(2));
  EXPECT_TRUE(p.masked());
  EXPECT_TRUE(p.unmask());
  EXPECT_EQ(p.bound_vcpu(), 2u);
}
