#include "models/virtio/vring.hpp"

namespace pvsim {

Vring::Vring(std::uint16_t num, bool event_idx) : num_(num), event_idx_(event_idx), num_free_(num) {}

void Vring::add(std::uint16_t descs)
{
  num_free_ = static_cast<std::uint16_t>(num_free_ - descs);
  avail_idx_++;
  num_added_++;
}

bool Vring::kick_prepare()
{
  std::uint16_t new_idx = avail_idx_;
  std::uint16_t old     = static_cast<std::uint16_t>(new_idx - num_added_);
  if (num_added_ == 0)
    return false;
  num_added_ = 0;
  bool kick  = event_idx_ ? vring_need_event(avail_event_, new_idx, old) : not no_notify_;
  ++(kick ? kicks_ : kicks_suppressed_);
  return kick;
}

void Vring::get_buf(std::uint16_t descs)
{
  last_used_++;
  num_free_ = static_cast<std::uint16_t>(num_free_ + descs);
}

void Vring::disable_cb()
{
  // virtqueue_disable_cb_split: with EVENT_IDX, a device that has just interrupted will not interrupt again before
  // used_event moves, so nothing is written; otherwise used_event = 0 ("a hack") or the NO_INTERRUPT flag.
  if (event_triggered_)
    return;
  if (event_idx_)
    used_event_ = 0;
  else
    no_interrupt_ = true;
}

bool Vring::enable_cb()
{
  // virtqueue_enable_cb_prepare_split then virtqueue_poll.
  event_triggered_ = false;
  no_interrupt_    = false;
  used_event_      = last_used_;
  return not more_used();
}

bool Vring::enable_cb_delayed()
{
  // "TODO: tune this threshold" in the kernel: bufs = 3/4 of what the driver published and has not taken back.
  event_triggered_ = false;
  no_interrupt_    = false;
  auto bufs        = static_cast<std::uint16_t>(static_cast<std::uint16_t>(avail_idx_ - last_used_) * 3 / 4);
  used_event_      = static_cast<std::uint16_t>(last_used_ + bufs);
  return static_cast<std::uint16_t>(used_idx_ - last_used_) <= bufs;
}

void Vring::pop()
{
  last_avail_++;
  if (event_idx_ and notification_) // vring_set_avail_event() returns early while notifications are off
    avail_event_ = last_avail_;
}

void Vring::set_notification(bool enable)
{
  notification_ = enable;
  if (event_idx_) {
    if (enable)
      avail_event_ = avail_idx_; // vring_set_avail_event(vq, vring_avail_idx(vq))
  } else {
    no_notify_ = not enable;
  }
}

bool Vring::should_notify()
{
  bool notify;
  if (event_idx_) {
    bool valid            = signalled_used_valid_;
    signalled_used_valid_ = true;
    std::uint16_t old     = signalled_used_;
    signalled_used_       = used_idx_;
    notify                = not valid or vring_need_event(used_event_, used_idx_, old);
  } else {
    notify = not no_interrupt_;
  }
  ++(notify ? notifies_ : notifies_suppressed_);
  return notify;
}

} // namespace pvsim
