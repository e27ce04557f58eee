/* The split vring: vring_need_event()'s wrap-around arithmetic and EVENT_IDX suppression on both sides. */
#include "models/virtio/vring.hpp"

#include <gtest/gtest.h>

using namespace pvsim;

TEST(Vring, NeedEventAsksForANotificationWhenTheEventIndexWasJustPassedEvenAcrossTheWrap)
{
  // The entries (old, new] were just published: notify iff event_idx + 1 is one of them.
  EXPECT_TRUE(vring_need_event(4, 5, 4));
  EXPECT_FALSE(vring_need_event(4, 6, 5));
  EXPECT_TRUE(vring_need_event(4, 9, 2));
  EXPECT_TRUE(vring_need_event(0xffff, 0x0000, 0xfffe)); // 16-bit indices wrap
  EXPECT_TRUE(vring_need_event(0xfffe, 0x0002, 0xfff0));
  EXPECT_FALSE(vring_need_event(0x0003, 0x0002, 0xfff0));
  EXPECT_FALSE(vring_need_event(7, 7, 7)); // nothing published, nobody notified
}

TEST(Vring, TheDriverKicksOnlyWhenItPublishesPastTheDevicesAvailEvent)
{
  Vring v(256, true);
  v.set_notification(true); // avail_event = 0
  v.add(1);
  EXPECT_TRUE(v.kick_prepare());
  v.add(1); // the device has not looked again: avail_event is still 0
  EXPECT_FALSE(v.kick_prepare());
  v.set_notification(false); // a handler pass: avail_event stays where it was while it pops
  v.pop();
  v.pop();
  v.add(1);
  EXPECT_FALSE(v.kick_prepare());
  v.pop();
  v.set_notification(true); // end of the pass: avail_event = 3
  v.add(1);
  EXPECT_TRUE(v.kick_prepare());
  EXPECT_EQ(v.kicks(), 2u);
  EXPECT_EQ(v.kicks_suppressed(), 2u);
}

TEST(Vring, TheDeviceNotifiesOnceUntilTheDriverReenablesCallbacks)
{
  Vring v(256, true);
  for (int i = 0; i < 3; ++i) {
    v.add(1);
    v.pop();
  }
  v.push_used();
  EXPECT_TRUE(v.should_notify()); // the first check always notifies
  v.push_used();
  EXPECT_FALSE(v.should_notify()); // used_event (0) was passed by the first push only
  v.interrupt_taken();
  v.disable_cb();
  v.get_buf(1);
  v.get_buf(1);
  EXPECT_TRUE(v.enable_cb()); // used_event = 2, nothing pending
  v.push_used();
  EXPECT_TRUE(v.should_notify());
  EXPECT_EQ(v.notifications(), 2u);
  EXPECT_EQ(v.notifications_suppressed(), 1u);
}

TEST(Vring, ADelayedCallbackWaitsForThreeQuartersOfTheOutstandingBuffers)
{
  // virtqueue_enable_cb_delayed_split: 8 buffers published, none taken back: bufs = 8 * 3 / 4 = 6, used_event = 6,
  // so the device's 7th used entry is the first to interrupt.
  Vring v(256, true);
  for (int i = 0; i < 8; ++i) {
    v.add(1);
    v.pop();
  }
  EXPECT_TRUE(v.enable_cb_delayed());
  EXPECT_EQ(v.used_event(), 6);
  v.push_used();
  EXPECT_TRUE(v.should_notify()); // the device's first check always notifies
  for (int i = 2; i <= 6; ++i) {
    v.push_used();
    EXPECT_FALSE(v.should_notify()) << "used entry " << i;
  }
  v.push_used();
  EXPECT_TRUE(v.should_notify()); // the 7th passes used_event
}

TEST(Vring, ADelayedCallbackFailsWhenMoreThanThreeQuartersAreUsedAlready)
{
  // 4 outstanding: bufs = 3; with 4 used and not taken back the re-arm reports it (start_xmit then frees again).
  Vring v(256, true);
  for (int i = 0; i < 4; ++i) {
    v.add(1);
    v.pop();
    v.push_used();
  }
  EXPECT_FALSE(v.enable_cb_delayed());
  for (int i = 0; i < 4; ++i)
    v.get_buf(1);
  EXPECT_TRUE(v.enable_cb_delayed()); // nothing outstanding: used_event = last_used, nothing used beyond it
  EXPECT_EQ(v.used_event(), 4);
}
