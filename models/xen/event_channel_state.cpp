#include "models/xen/event_channel_state.hpp"

namespace pvsim::xen {

bool EventChannelState::notify()
{
  // evtchn_2l_set_pending() (xen/common/event_2l.c): test_and_set of the pending bit first; an already pending port
  // returns at once, whatever its mask.
  if (pending_) {
    ++coalesced_;
    return false;
  }
  pending_ = true;
  if (masked()) {
    ++deferred_;
    return false;
  }
  ++raised_;
  return true;
}

void EventChannelState::begin_handling()
{
  // handle_edge_irq() calls irq_ack = ack_dynirq() -> event_handler_exit() -> clear_evtchn() before the action.
  pending_ = false;
}

void EventChannelState::begin_handling_late_eoi()
{
  // lateeoi_ack_dynirq(): do_mask(EVT_MASK_REASON_EOI_PENDING), then clear_evtchn().
  add_mask(eoi_pending_mask);
  pending_ = false;
}

bool EventChannelState::late_eoi()
{
  // xen_irq_lateeoi() -> xen_irq_lateeoi_locked() -> do_unmask(EVT_MASK_REASON_EOI_PENDING) (no spurious delay here).
  return drop_mask(eoi_pending_mask);
}

void EventChannelState::mask()
{
  add_mask(explicit_mask); // disable_dynirq() -> do_mask(EVT_MASK_REASON_EXPLICIT)
}

bool EventChannelState::unmask()
{
  return drop_mask(explicit_mask); // enable_dynirq() -> do_unmask(EVT_MASK_REASON_EXPLICIT)
}

bool EventChannelState::rebind(unsigned vcpu)
{
  // xen_rebind_evtchn_to_cpu(): do_mask(TEMPORARY), EVTCHNOP_bind_vcpu (notify_vcpu_id = vcpu), do_unmask(TEMPORARY);
  // the unmask (evtchn_2l_unmask() in Xen) raises a pending port on the vCPU it is now bound to.
  add_mask(temporary_mask);
  bound_vcpu_ = vcpu;
  return drop_mask(temporary_mask);
}

bool EventChannelState::drop_mask(unsigned reason)
{
  bool was_masked = masked();
  mask_reasons_ &= ~reason;
  // do_unmask() only calls unmask_evtchn() once no reason is left; evtchn_2l_unmask() raises the upcall iff the mask
  // bit was set and the port is pending.
  if (was_masked && !masked() && pending_) {
    ++raised_on_unmask_;
    return true;
  }
  return false;
}

} // namespace pvsim::xen
