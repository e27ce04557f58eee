/* pvsim: the state one blkif queue shares between xen-blkfront and xen-blkback: the shared ring (indices and the
 * requests sitting in its slots), the responses published and not yet consumed, the two event-channel ports, and the
 * statistics of the queue (ring occupancy, notifications sent and suppressed, coalesced upcalls, backend batches).
 * It is a Station: a request holds a ring slot from the frontend's produce to its consume of the response. */
#pragma once

#include "models/xen/event_channel_state.hpp"
#include "models/xen/shared_ring.hpp"
#include "sim/latency_histogram.hpp"
#include "sim/station.hpp"
#include "sim/stats.hpp"
#include "sim/time_average.hpp"

#include <deque>
#include <map>

namespace pvsim::xen {

struct BlkifQueue : public Station {
  BlkifQueue(unsigned ring_page_order, unsigned frontend_vcpu)
      : ring(SharedRing::blkif(ring_page_order)), frontend_port(frontend_vcpu), backend_port(0)
  {
  }

  SharedRing ring;
  std::deque<Request*> requests;   // produced by the frontend, in slot order; the backend consumes from the front
  std::deque<Request*> responses;  // produced by the backend, in slot order; the frontend consumes from the front
  EventChannelState frontend_port; // upcalls to the frontend's vCPU (blkif_interrupt)
  EventChannelState backend_port;  // upcalls in dom0 waking the ring's kthread (xen_blkif_be_int)

  // --- statistics (registered by xen.blkfront, restarted and written by the engine) -------------------------------
  Level occupancy_avg;                 // slots in use (req_prod_pvt - rsp_cons)
  Tally batch;                         // backend: requests consumed per __do_block_io_op pass
  Counter backend_wakeups;             // kthread woken by a notification
  Maximum responses_per_irq_max{true}; // responses one blkif_interrupt consumed
  std::uint64_t produced = 0;          // conservation (never restarted)
  std::uint64_t consumed = 0;
  Probe<StationEvent> events;

  void sample(double now) { occupancy_avg.set(now, static_cast<double>(ring.occupancy())); }

  const Probe<StationEvent>& probe() const override { return events; }
  int servers() const override { return static_cast<int>(ring.size()); }
  Occupancy occupancy() const override { return {produced, consumed, ring.occupancy()}; }
};

} // namespace pvsim::xen
