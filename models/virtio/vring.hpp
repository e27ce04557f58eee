/* pvsim: one split virtqueue (the virtio 1.x split ring: descriptor table, avail ring, used ring) as its two sides
 * see it: the Linux driver (drivers/virtio/virtio_ring.c, the *_split functions) and QEMU's device
 * (hw/virtio/virtio.c). Indices only, no payload; VIRTIO_RING_F_EVENT_IDX notification suppression on both sides
 * (avail_event / used_event with vring_need_event()'s 16-bit wrap-around) or, without it, the
 * VRING_USED_F_NO_NOTIFY / VRING_AVAIL_F_NO_INTERRUPT flags. Shared by virtio.blk and virtio.net.
 * Leaves out: packed rings, VIRTIO_F_NOTIFY_ON_EMPTY, indirect descriptor tables as objects (a caller takes one
 * descriptor for an indirect request). */
#pragma once

#include "sim/path_event.hpp"
#include "sim/stats.hpp"

#include <cstdint>

namespace pvsim {

/** vring_need_event() (include/uapi/linux/virtio_ring.h, QEMU's copy): does `event_idx` lie in the entries
 * (old, new_idx] just published? 16-bit, free-running, wrapping. */
constexpr bool vring_need_event(std::uint16_t event_idx, std::uint16_t new_idx, std::uint16_t old)
{
  return static_cast<std::uint16_t>(new_idx - event_idx - 1) < static_cast<std::uint16_t>(new_idx - old);
}

/** The shared and private indices of one split virtqueue, without payload. Every operation is atomic here (the
 * memory barriers and the races the re-checks guard against become "the other side acted just before"). */
class Vring {
public:
  Vring(std::uint16_t num, bool event_idx);

  std::uint16_t num() const { return num_; }
  std::uint16_t num_free() const { return num_free_; }
  /** Entries published by the driver and not yet consumed by it back from the used ring. */
  std::uint16_t in_flight() const { return static_cast<std::uint16_t>(avail_idx_ - last_used_); }

  // --- driver (guest) -----------------------------------------------------------------------------------------------
  /** virtqueue_add_split: takes `descs` descriptors, publishes one avail entry (avail->idx++). */
  void add(std::uint16_t descs);
  /** virtqueue_kick_prepare_split: should the entries added since the last call be kicked? */
  bool kick_prepare();
  /** virtqueue_get_buf: more_used(), then last_used_idx++ and `descs` descriptors back (detach_buf_split). */
  bool more_used() const { return used_idx_ != last_used_; }
  void get_buf(std::uint16_t descs);
  /** vring_interrupt (event_triggered) / virtqueue_disable_cb / virtqueue_enable_cb (true when nothing is pending). */
  void interrupt_taken() { event_triggered_ = event_idx_; }
  void disable_cb();
  bool enable_cb();
  /** virtqueue_enable_cb_delayed_split: callbacks back on, but the device interrupts only once 3/4 of the entries
   * still in flight are used (used_event = last_used + 3/4 of them); false when more than that are used already. */
  bool enable_cb_delayed();

  // --- device (QEMU) ------------------------------------------------------------------------------------------------
  /** virtio_queue_empty. */
  bool device_empty() const { return last_avail_ == avail_idx_; }
  /** virtqueue_pop: last_avail_idx++ (and avail_event follows it while notifications are on). */
  void pop();
  /** Firecracker's Queue::undo_pop: the entry last popped goes back (next_avail--), as if never taken. */
  void undo_pop() { last_avail_--; }
  /** virtio_queue_set_notification. */
  void set_notification(bool enable);
  /** virtqueue_push + flush: used->idx++. */
  void push_used() { used_idx_++; }
  /** virtio_split_should_notify. */
  bool should_notify();

  std::uint64_t kicks() const { return kicks_.get(); }
  std::uint64_t kicks_suppressed() const { return kicks_suppressed_.get(); }
  std::uint64_t notifications() const { return notifies_.get(); }
  std::uint64_t notifications_suppressed() const { return notifies_suppressed_.get(); }
  /** The four counters, as statistics the owning model registers (sim/stats.hpp). */
  Counter& stat_kicks() { return kicks_; }
  Counter& stat_kicks_suppressed() { return kicks_suppressed_; }
  Counter& stat_notifications() { return notifies_; }
  Counter& stat_notifications_suppressed() { return notifies_suppressed_; }
  /** Zeroes the counters outside the engine's restart: virtio.net forgets the kick of its initial fill (before
   * DRIVER_OK, no kick reaches the device). */
  void clear_counters()
  {
    for (Counter* c : {&kicks_, &kicks_suppressed_, &notifies_, &notifies_suppressed_})
      c->restart(0);
  }
  /** All the indices at once, in the Xen names (sim/path_event.hpp): avail idx, avail_event, used idx, used_event,
   * last_avail_idx, last_used_idx. */
  RingIndices indices() const
  {
    RingIndices i;
    i.kind      = RingIndices::Kind::vring;
    i.size      = num_;
    i.req_prod  = avail_idx_;
    i.req_event = avail_event_;
    i.rsp_prod  = used_idx_;
    i.rsp_event = used_event_;
    i.req_cons  = last_avail_;
    i.rsp_cons  = last_used_;
    i.event_idx = event_idx_;
    return i;
  }
  std::uint16_t avail_event() const { return avail_event_; }
  std::uint16_t used_event() const { return used_event_; }

private:
  std::uint16_t num_;
  bool event_idx_;
  std::uint16_t num_free_;
  std::uint16_t avail_idx_      = 0;     // avail->idx (the driver's avail_idx_shadow)
  std::uint16_t num_added_      = 0;     // added since the last kick_prepare
  std::uint16_t last_used_      = 0;     // driver's last_used_idx
  std::uint16_t used_event_     = 0;     // written by the driver
  bool no_interrupt_            = false; // VRING_AVAIL_F_NO_INTERRUPT (without EVENT_IDX)
  bool event_triggered_         = false;
  std::uint16_t last_avail_     = 0;     // device's last_avail_idx
  std::uint16_t avail_event_    = 0;     // written by the device
  bool notification_            = true;  // vq->notification
  bool no_notify_               = false; // VRING_USED_F_NO_NOTIFY (without EVENT_IDX)
  std::uint16_t used_idx_       = 0;
  std::uint16_t signalled_used_ = 0;
  bool signalled_used_valid_    = false;
  Counter kicks_;
  Counter kicks_suppressed_;
  Counter notifies_;
  Counter notifies_suppressed_;
};

} // namespace pvsim
