/* pvsim: one frontend-backend channel of a Xen split driver: a shared ring, the grant references of its pages and the
 * event channel between the two domains, as xen-blkfront/xen-blkback and xen-netfront/xen-netback set one up per ring.
 *
 * Models what the Linux xenbus helpers set up for one ring (drivers/xen/xenbus/xenbus_client.c): the frontend's
 * xenbus_setup_ring() / xenbus_grant_ring() (the ring pages, SHARED_RING_INIT + FRONT_RING_INIT, one grant reference
 * per page: "ring-ref" or "ring-refN", "tx-ring-ref", "rx-ring-ref"), its xenbus_alloc_evtchn() (an unbound port,
 * written as "event-channel" or "event-channel-tx"/"-rx"), and the backend's xenbus_map_ring_valloc() +
 * bind_interdomain_evtchn_to_irqhandler_lateeoi() (drivers/xen/events/events_base.c), which give the backend its own
 * end of the channel. Holds the ring's indices (SharedRing), the two ends' pending and mask bits (EventChannelState),
 * the grant references and port numbers as the XenStore negotiation knows them, and each end's late-EOI state: the
 * ack of lateeoi_ack_dynirq() marks an EOI pending, xen_irq_lateeoi() (only when one is pending) ends it, as
 * xen-netback's eoi_pending flags do. Also the two push-and-check-notify sequences both drivers repeat: the frontend
 * filling request slots then RING_PUSH_REQUESTS_AND_CHECK_NOTIFY, the backend filling response slots then
 * RING_PUSH_RESPONSES_AND_CHECK_NOTIFY; each returns whether the other end must be notified (notify_remote_via_irq()).
 * Leaves out: the ring pages' contents and the grant table entries themselves (gnttab_grant_foreign_access(), the
 * mapping hypercalls and their cost), the grants of the data pages a request carries, the backend's local port number
 * (bind_interdomain_evtchn_to_irq() allocates it in dom0 and XenStore never records it: 0 here), teardown
 * (xenbus_teardown_ring(), xenbus_free_evtchn(), unbind_from_irqhandler()), and the lateeoi spurious-event back-off
 * (xen_irq_lateeoi_locked()'s delay). Which thread runs a handler and what it costs stays in the models. */
#pragma once

#include "models/xen/event_channel_state.hpp"
#include "models/xen/shared_ring.hpp"
#include "sim/stats.hpp"

#include <cstdint>
#include <vector>

namespace pvsim::xen {

class XenChannel {
public:
  /** An end of the event channel. */
  enum class End { frontend, backend };

  /** A channel over `ring`, its frontend port bound to the domU's `frontend_vcpu` and its backend port to dom0's
   * `backend_vcpu`, nothing pending, no grant reference or port number known yet. */
  explicit XenChannel(SharedRing ring, unsigned frontend_vcpu = 0, unsigned backend_vcpu = 0);

  SharedRing& ring() { return ring_; }
  const SharedRing& ring() const { return ring_; }
  /** The frontend's port (its upcalls reach the domU vCPU it is bound to) and the backend's (upcalls in dom0). */
  EventChannelState& frontend() { return frontend_; }
  const EventChannelState& frontend() const { return frontend_; }
  EventChannelState& backend() { return backend_; }
  const EventChannelState& backend() const { return backend_; }
  EventChannelState& port(End end) { return end == End::frontend ? frontend_ : backend_; }
  const EventChannelState& port(End end) const { return end == End::frontend ? frontend_ : backend_; }

  // ---- What the XenStore negotiation says (numbers only: nothing here depends on them) ----
  /** The grant references of the ring pages, in page order ("ring-ref0".. or the single "ring-ref"); empty when
   * unknown. */
  const std::vector<unsigned>& ring_refs() const { return ring_refs_; }
  /** The frontend's port number ("event-channel"), the backend's local port; 0 when unknown. */
  unsigned frontend_evtchn() const { return frontend_evtchn_; }
  unsigned backend_evtchn() const { return backend_evtchn_; }
  /** Records the ring's grant references and the two ends' port numbers (0: unknown). */
  void set_negotiated(std::vector<unsigned> ring_refs, unsigned frontend_evtchn, unsigned backend_evtchn = 0);

  // ---- Ring pushes both drivers repeat ----
  /** The frontend fills `n` request slots (req_prod_pvt += n) and publishes them with
   * RING_PUSH_REQUESTS_AND_CHECK_NOTIFY; true iff the backend must be notified (req_event was passed). n may be 0
   * (a push of nothing, which never notifies). Throws std::logic_error when the ring has fewer than n free slots. */
  bool push_requests(unsigned n = 1);
  /** The backend fills `n` response slots (rsp_prod_pvt += n) and publishes them with
   * RING_PUSH_RESPONSES_AND_CHECK_NOTIFY; true iff the frontend must be notified (rsp_event was passed). Throws
   * std::logic_error when fewer than n consumed requests lack a response. */
  bool push_responses(unsigned n = 1);

  // ---- Late EOI (bind_*_to_irqhandler_lateeoi()) ----
  /** lateeoi_ack_dynirq() before `end`'s handler runs: masks the port for EOI_PENDING (an EOI is due from then on)
   * and clears pending. */
  void lateeoi_ack(End end);
  /** Whether `end` acked an upcall and has not sent its EOI yet. */
  bool lateeoi_pending(End end) const { return port(end).eoi_pending(); }
  /** xen_irq_lateeoi() for `end` if an EOI is due (nothing otherwise): unmasks the port; true iff that raised an
   * upcall (a notification arrived while the EOI was pending). */
  bool lateeoi(End end);

  // ---- Statistics ----
  /** The ring's notification counters and both ports' upcall counters restart with `set` (the owning model's). */
  void track_stats(StatSet& set);

private:
  SharedRing ring_;
  EventChannelState frontend_;
  EventChannelState backend_;
  std::vector<unsigned> ring_refs_;
  unsigned frontend_evtchn_ = 0;
  unsigned backend_evtchn_  = 0;
};

} // namespace pvsim::xen
