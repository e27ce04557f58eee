/* pvsim: the pending and mask bits of one Xen event channel port bound to one vCPU (2-level ABI).
 *
 * Models: evtchn_2l_set_pending() in Xen (EVTCHNOP_send / notify_remote_via_irq()): set the port's bit in
 * shared_info->evtchn_pending; if it was already set the notification merges into the pending one (no upcall); if the
 * port is masked (evtchn_mask) the bit stays pending without an upcall; otherwise the bound vCPU gets an upcall.
 * evtchn_2l_unmask(): clearing the mask of a pending port raises the upcall then. The Linux guest side
 * (drivers/xen/events/events_base.c): interdomain ports use handle_edge_irq, whose irq_ack runs BEFORE the driver's
 * handler and clears the pending bit (ack_dynirq() -> event_handler_exit() -> clear_evtchn()), so a notification
 * arriving while the handler runs is not lost but raises a new upcall. The late-EOI variant that xen-blkfront and
 * xen-blkback bind with (bind_evtchn_to_irqhandler_lateeoi()): lateeoi_ack_dynirq() masks the port (reason
 * EOI_PENDING) and clears pending before the handler; the driver's xen_irq_lateeoi() unmasks it afterwards, and a
 * notification that arrived meanwhile is raised then. Masking is by reasons (do_mask()/do_unmask(): explicit,
 * temporary, EOI pending); the port is masked while any reason holds. Rebinding (xen_rebind_evtchn_to_cpu():
 * EVTCHNOP_bind_vcpu inside a temporary mask) raises a pending, otherwise unmasked port on the new vCPU.
 * Leaves out: the per-vCPU selector word (evtchn_pending_sel) and evtchn_upcall_pending, i.e. coalescing of upcalls
 * across ports of one vCPU; the FIFO ABI's queues and priorities (there an event is linked into the vCPU's queue
 * unless already LINKED, and Linux clears its P bit in the same ack); Linux's is_active guard, the lateeoi spurious
 * back-off delays, and the cost of the hypercalls. */
#pragma once

#include "sim/stats.hpp"

#include <cstdint>

namespace pvsim::xen {

class EventChannelState {
public:
  /** A port as a driver has it after bind_*_to_irqhandler(): bound (Linux binds interdomain ports to vCPU 0 first,
   * bind_evtchn_to_irq_chip()), unmasked by request_irq()'s startup, nothing pending. */
  explicit EventChannelState(unsigned bound_vcpu = 0) : bound_vcpu_(bound_vcpu) {}

  bool pending() const { return pending_; }
  bool masked() const { return mask_reasons_ != 0; }
  /** Masked for EOI_PENDING: a late-EOI ack was made and its EOI not sent yet. */
  bool eoi_pending() const { return (mask_reasons_ & eoi_pending_mask) != 0; }
  /** The vCPU that gets this port's upcalls (notify_vcpu_id). */
  unsigned bound_vcpu() const { return bound_vcpu_; }

  /** The remote end's notification (evtchn_2l_set_pending()): sets pending. True iff this raised an upcall on
   * bound_vcpu() (the bit was clear and the port unmasked); false when it merged into an already pending one
   * (coalesced) or the port is masked (deferred until unmask). */
  bool notify();

  /** The guest's upcall path for this port (handle_edge_irq() -> ack_dynirq()): clears pending before the handler
   * runs, so a notification during the handler raises again. */
  void begin_handling();
  /** The late-EOI ack (lateeoi_ack_dynirq()): masks for EOI_PENDING and clears pending before the handler runs;
   * notifications during the handler only set pending. */
  void begin_handling_late_eoi();
  /** xen_irq_lateeoi() at the end of the handler: drops the EOI_PENDING mask. True iff that raised an upcall (a
   * notification arrived during the handler and nothing else keeps the port masked). */
  bool late_eoi();

  /** disable_irq(): explicit mask. */
  void mask();
  /** enable_irq(): drops the explicit mask; true iff that raised an upcall (pending and no other mask reason). */
  bool unmask();

  /** Sends future upcalls to `vcpu` (EVTCHNOP_bind_vcpu within a temporary mask). True iff the closing unmask raised
   * the pending port on the new vCPU. */
  bool rebind(unsigned vcpu);

  /** Upcalls raised: by notify() (raised), and by unmask(), late_eoi() or rebind() (raised_on_unmask). */
  std::uint64_t notifications_raised() const { return raised_.get(); }
  std::uint64_t upcalls_raised_on_unmask() const { return raised_on_unmask_.get(); }
  /** notify() calls that found the bit already pending. */
  std::uint64_t notifications_coalesced() const { return coalesced_.get(); }
  /** notify() calls that set the bit on a masked port. */
  std::uint64_t notifications_deferred() const { return deferred_.get(); }
  /** Every upcall raised for this port. */
  std::uint64_t upcalls() const { return raised_.get() + raised_on_unmask_.get(); }
  /** Its counters restart with `set` (the owning model's) at the end of the warm-up; the model reports them through
   * formulas (upcalls, coalesced + deferred). */
  void track_stats(StatSet& set) { set.track(raised_, raised_on_unmask_, coalesced_, deferred_); }

private:
  enum MaskReason : unsigned { explicit_mask = 1, temporary_mask = 2, eoi_pending_mask = 4 }; // EVT_MASK_REASON_*

  void add_mask(unsigned reason) { mask_reasons_ |= reason; }
  /** do_unmask(): true iff the port became unmasked with pending set (the upcall evtchn_2l_unmask() raises). */
  bool drop_mask(unsigned reason);

  unsigned bound_vcpu_;
  bool pending_          = false;
  unsigned mask_reasons_ = 0;
  Counter raised_;
  Counter raised_on_unmask_;
  Counter coalesced_;
  Counter deferred_;
};

} // namespace pvsim::xen
