/* pvsim: the state one netif queue shares between xen-netfront and xen-netback: a Tx and an Rx channel
 * (models/xen/xen_channel.hpp), each a shared ring of 256 slots (one page, netif.h) with its ring-ref and an event
 * channel (one per direction with feature-split-event-channels; without, both directions use the Tx channel's), the
 * packets sitting in the rings, and the queue's statistics.
 * Packets (pvsim Requests) wait in intrusive FIFOs; a packet is in at most one of them at a time.
 * Two Stations per queue: "txN" (a packet from netfront's xmit, or the qdisc when the queue is stopped, until
 * netfront frees its slots in xennet_tx_buf_gc) and "rxN" (from netback's xenvif_start_xmit until netfront's NAPI poll
 * takes it off the Rx ring). */
#pragma once

#include "sim/stats.hpp"

#include "models/xen/xen_channel.hpp"
#include "sim/path_event.hpp"
#include "sim/request.hpp"
#include "sim/station.hpp"

#include <cstdint>

namespace pvsim::xen {

/** XEN_NETIF_NR_SLOTS_MIN (netif.h): the most slots a packet's data may take (xen-netfront linearizes beyond). */
constexpr unsigned netif_nr_slots_min = 18;

/** Tx ring slots of a packet: the linear head plus one per 4 KiB page of data (xennet_count_skb_slots(), data in
 * page-sized frags), at most XEN_NETIF_NR_SLOTS_MIN, plus one XEN_NETIF_EXTRA_TYPE_GSO slot for a GSO packet: 2 for one
 * MSS, 18 for a 64 KiB GSO packet. */
constexpr unsigned netif_tx_slots(std::uint32_t bytes, bool gso)
{
  unsigned data = 1 + (bytes + 4095) / 4096;
  return (data > netif_nr_slots_min - 1 ? netif_nr_slots_min - 1 : data) + (gso ? 1 : 0);
}
/** Rx ring slots netback needs (xenvif_rx_ring_slots_available()): DIV_ROUND_UP(len, XEN_PAGE_SIZE), one more for the
 * GSO extra: 1 for one MSS, 17 for 64 KiB. */
constexpr unsigned netif_rx_slots(std::uint32_t bytes, bool gso)
{
  return (bytes + 4095) / 4096 + (gso ? 1 : 0);
}
static_assert(netif_tx_slots(65536, true) == 18 && netif_tx_slots(1448, false) == 2);
static_assert(netif_rx_slots(65536, true) == 17 && netif_rx_slots(1448, false) == 1);

/** The slots of a packet (a net.flow Request: size_bytes, tag = gso_segs, GSO when more than one segment). */
inline unsigned tx_slots_of(const Request* r)
{
  return netif_tx_slots(r->size_bytes, r->tag > 1);
}
inline unsigned rx_slots_of(const Request* r)
{
  return netif_rx_slots(r->size_bytes, r->tag > 1);
}

/** A queue's packets in one direction, as a Station. */
struct VifDirection : public Station {
  std::uint64_t issued    = 0;
  std::uint64_t completed = 0;
  std::uint64_t held      = 0; // packets between two FIFOs (CPU work posted, on the link): counted by the model
  RequestFifo a, b, c;         // tx: qdisc backlog, on the ring (unconsumed), responses published; rx: netback's
                               // rx_queue, (unused), responses published
  Probe<StationEvent> events;
  // --- statistics (registered by xen.netfront, restarted and written by the engine) -------------------------------
  Counter packets; // packets the frontend consumed from the ring
  Counter bytes;
  Counter slots;        // their ring slots
  Level ring_occupancy; // tx: slots in use; rx: responses published and not yet consumed

  /** The counters behind the direction's rates restart with `set` (xen.netfront's); the model reports them through
   * formulas (throughput, packets per second, slots per packet) and registers ring_occupancy itself. */
  void track_stats(StatSet& set) { set.track(packets, bytes, slots); }

  /** The frontend consumed the `ring_slots` responses of `r` from `ring`: the packet leaves the queue. */
  void consume(SharedRing& ring, Request* r, unsigned ring_slots, double now)
  {
    for (unsigned i = 0; i < ring_slots; ++i)
      ring.consume_response();
    completed++;
    ++packets;
    bytes += r->size_bytes;
    slots += ring_slots;
    events.emit({StationEvent::What::depart, now, r, r->stage_s});
  }

  const Probe<StationEvent>& probe() const override { return events; }
  int servers() const override { return 256; }
  Occupancy occupancy() const override { return {issued, completed, a.size() + b.size() + c.size() + held}; }
};

struct VifQueue {
  /** The frontend's ends bound to `tx_vcpu` and `rx_vcpu` (the same vCPU without split channels). */
  VifQueue(unsigned tx_vcpu, unsigned rx_vcpu, bool split_channels)
      : split(split_channels), tx(SharedRing(256), tx_vcpu, 0), rx(SharedRing(256), rx_vcpu, 0)
  {
  }

  bool split;
  /** The Tx ring ("tx-ring-ref") and the Rx ring ("rx-ring-ref") with their event channels ("event-channel-tx",
   * "event-channel-rx"). Without split channels only the Tx channel's ports are used ("event-channel"), by both
   * directions: see evtchn(). */
  XenChannel tx;
  XenChannel rx;
  /** req_event of the Rx ring as netback sets it (req_prod + 1 when short of slots, xenvif_rx_ring_slots_available),
   * which SharedRing's final check cannot express; starts at 1 like SHARED_RING_INIT. */
  RingIdx rx_req_event = 1;

  /** The channel whose ports (and late-EOI state) serve direction `rx_dir`: the Rx channel's only with split
   * channels, otherwise the Tx channel's (xen-netback's NETBK_COMMON_EOI). */
  XenChannel& evtchn(bool rx_dir) { return split and rx_dir ? rx : tx; }
  const XenChannel& evtchn(bool rx_dir) const { return split and rx_dir ? rx : tx; }

  /** The rings' names ("vif.tx0", "vif.rx0"), for the path events. */
  std::string tx_name, rx_name;
  /** Packets the Rx kthread copied since its last push (only kept while someone listens to the path events). */
  std::vector<Request*> rx_unpushed;
  /** A path event of packet r on the Tx or Rx ring (sim/path_event.hpp), whose first slot is at index `first`: the
   * ring's indices (the Rx ring's req_event as netback keeps it) and the event channel its direction uses. */
  PathEvent step(PathEvent::What w, double t, const Request* r, bool notified, bool rx_ring, RingIdx first,
                 const CpuThread* thread) const
  {
    const SharedRing& ring = (rx_ring ? rx : tx).ring();
    PathEvent ev(w, t, r, notified);
    ev.ring       = rx_ring ? &rx_name : &tx_name;
    ev.channel    = "event channel";
    ev.channel_id = static_cast<int>(evtchn(rx_ring).frontend_evtchn());
    ev.thread     = thread;
    ev.idx        = ring.indices();
    if (rx_ring)
      ev.idx.req_event = rx_req_event;
    ev.slot = ring.slot(first);
    return ev;
  }

  VifDirection txd, rxd;
  // netfront
  bool tx_stopped      = false; // netif_tx_stop_queue()
  unsigned tx_reserved = 0;     // slots of packets whose xmit is running on a vCPU
  bool napi_scheduled  = false;
  // netback
  bool be_napi_scheduled = false;
  bool rx_thread_busy    = false;
  bool rx_waiting_slots  = false;

  // --- statistics: netfront's and netback's, each registered by its model, restarted and written by the engine ----
  // netfront
  Counter rx_req_notified;     // Rx refills whose push notified netback (against rx_req_event)
  Counter rx_req_suppressed;   // Rx refills whose notification rx_req_event suppressed
  Counter tx_stops;            // netif_tx_stop_queue()
  Counter fe_upcalls;          // handler runs on the queue's vCPU
  Counter napi_polls;          // xennet_poll()
  Counter napi_budget_hits;    // polls that used up napi_weight
  Maximum napi_max_work{true}; // most packets one poll took
  // netback
  Counter be_polls;       // xenvif_poll()
  Counter be_budget_hits; // polls that used up napi_weight
  Counter rx_batches;     // xenvif_rx_action() passes
  Counter rx_slot_waits;  // passes stopped short of posted Rx buffers

  /** The channels' (rings' and ports') and directions' counters restart with the owning model's statistics
   * (sim/stats.hpp); the models register what they report themselves. */
  void track_stats(StatSet& set)
  {
    tx.track_stats(set);
    rx.track_stats(set);
    txd.track_stats(set);
    rxd.track_stats(set);
  }
};

} // namespace pvsim::xen
