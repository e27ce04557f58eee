/* pvsim: the state one blkif queue shares between xen-blkfront and xen-blkback: the channel (the shared ring, its
 * ring-refs and the event channel's two ports: models/xen/xen_channel.hpp), the requests sitting in the ring's slots,
 * the responses published and not yet consumed, the frontend's grants (its free list and, per ring slot, the grants of
 * the request in it: models/xen/blk/blkif_grants.hpp), and the statistics of the queue (ring occupancy, notifications
 * sent and suppressed, coalesced upcalls, backend batches). It is a Station: a request holds a ring slot from the
 * frontend's produce to its consume of the response. */
#pragma once

#include "sim/cache_line.hpp"

#include "models/xen/blk/blkif_grants.hpp"
#include "models/xen/xen_channel.hpp"
#include "sim/latency_histogram.hpp"
#include "sim/ring_queue.hpp"
#include "sim/station.hpp"
#include "sim/stats.hpp"
#include "sim/time_average.hpp"

#include <map>

namespace pvsim::xen {

/** A ring slot's shadow entry (struct blk_shadow): the grants of the request holding it, and, for the statistics,
 * when the request took the slot (beside the grants, which the same events read: one cache line for both). */
struct BlkifShadow : BlkifShadowGrants {
  double pushed_s = 0;
};

struct BlkifQueue : public Station {
  BlkifQueue(unsigned ring_page_order, unsigned frontend_vcpu)
      : channel(SharedRing::blkif(ring_page_order), frontend_vcpu, 0)
  {
  }

  /** The ring, its ring-refs and the event channel: the frontend's port upcalls the domU vCPU (blkif_interrupt), the
   * backend's wakes the ring's kthread in dom0 (xen_blkif_be_int). */
  XenChannel channel;
  RingQueue<Request*> requests;          // produced by the frontend, in slot order; the backend consumes from the front
  RingQueue<Request*> responses;         // produced by the backend, in slot order; the frontend consumes from the front
  BlkfrontGrantPool grants;              // the frontend's free grants (rinfo->grants)
  std::vector<BlkifShadow> shadow;       // per tag: the request holding it (rinfo->shadow[id])
  CacheLine sring_line;                  // struct blkif_sring's header: req_prod, req_event, rsp_prod, rsp_event

  // --- statistics (registered by xen.blkfront, restarted and written by the engine) -------------------------------
  Level occupancy_avg;                 // slots in use (req_prod_pvt - rsp_cons)
  Tally batch;                         // backend: requests consumed per __do_block_io_op pass
  Counter backend_wakeups;             // kthread woken by a notification
  Maximum responses_per_irq_max{true}; // responses one blkif_interrupt consumed
  std::uint64_t produced = 0;          // conservation (never restarted)
  std::uint64_t consumed = 0;
  Probe<StationEvent> events;

  void sample(double now) { occupancy_avg.set(now, static_cast<double>(channel.ring().occupancy())); }

  const Probe<StationEvent>& probe() const override { return events; }
  int servers() const override { return static_cast<int>(channel.ring().size()); }
  Occupancy occupancy() const override { return {produced, consumed, channel.ring().occupancy()}; }
};

} // namespace pvsim::xen
