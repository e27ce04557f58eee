/* pvsim: what happens to one request between the queueing places a model exposes: the ring slot it was put in and
 * the ring's indices, the notification that was sent or suppressed, the thread that took it off the ring and in
 * which pass, the grants the backend found or mapped, the interrupt that brought its response back and the vCPU
 * that ran it.
 *
 * A model that owns a shared ring (xen.blkfront / xen.blkback, xen.netfront / xen.netback, virtio.blk, virtio.net)
 * emits these on its Probe<PathEvent> (Component::path_probe()); nothing listens in an ordinary run, so an emit costs
 * one test. Collectors: `pvsim run --trace` (instant events on the ring's track, the ring's indices and the backend's
 * batch sizes as counters: sim/trace_writer.hpp) and `pvsim explain` (a sentence per step). Statistics do not read
 * them: the models count the same things themselves.
 *
 * The indices are named as in Xen's ring.h; a virtio split ring maps onto them (RingIndices::names()): the driver's
 * avail->idx is req_prod, the device's avail_event is req_event, used->idx is rsp_prod, the driver's used_event is
 * rsp_event, the device's last_avail_idx is req_cons and the driver's last_used_idx is rsp_cons. */
#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace pvsim {

class CpuThread;
class Request;

/** A shared ring's indices at one instant. */
struct RingIndices {
  enum class Kind : std::uint8_t { xen, vring };
  Kind kind              = Kind::xen;
  std::uint32_t size     = 0; // slots (RING_SIZE, or the virtqueue's num)
  std::uint32_t req_prod = 0, req_event = 0, rsp_prod = 0, rsp_event = 0, req_cons = 0, rsp_cons = 0;
  bool event_idx = true; // a virtqueue without VIRTIO_RING_F_EVENT_IDX suppresses by flags, not by the event indices

  /** The six indices in the order above, and their names in the ring's own vocabulary. */
  std::array<std::uint32_t, 6> values() const { return {req_prod, req_event, rsp_prod, rsp_event, req_cons, rsp_cons}; }
  static const std::array<const char*, 6>& names(Kind k)
  {
    static const std::array<const char*, 6> xen   = {"req_prod",  "req_event", "rsp_prod",
                                                     "rsp_event", "req_cons",  "rsp_cons"};
    static const std::array<const char*, 6> vring = {"avail.idx",  "avail_event",    "used.idx",
                                                     "used_event", "last_avail_idx", "last_used_idx"};
    return k == Kind::xen ? xen : vring;
  }
};

struct PathEvent {
  enum class What : std::uint8_t {
    request_pushed,  // the frontend (driver) filled `slot` and published it; `notified`: it notified the backend
                     // (RING_PUSH_REQUESTS_AND_CHECK_NOTIFY, virtqueue_kick_prepare), else req_event suppressed it
    request_taken,   // the backend's `thread` took it off the ring, the `batch`-th request of that pass
    grants,          // the backend found `persistent` of the request's grants in its tree and mapped `mapped`
    response_pushed, // the backend published the response; `notified`: it notified the frontend (event channel send,
                     // virtqueue interrupt), else rsp_event (used_event) suppressed it
    response_taken,  // the frontend's interrupt handler on `thread` took the response, the `batch`-th of that pass
    signalled,       // a backend that pushes responses now and decides later (vhost signals per batch) decided for
                     // the responses published since its last signal: `notified` or suppressed by rsp_event
  };
  PathEvent(What w, double now, const Request* req, bool notify = false) : what(w), notified(notify), t(now), r(req) {}

  What what;
  bool notified           = false;
  double t                = 0;
  const Request* r        = nullptr; // the request
  const std::string* ring = nullptr; // the ring's name, owned by the model ("xvda.ring2", "vif.tx0", "vda.vq1")
  const char* channel     = nullptr; // how a notification travels ("event channel", "MSI-X vector"); static text
  int channel_id          = -1;      // the port or vector number (-1: not known)
  const CpuThread* thread = nullptr; // where it happened (the submitting or interrupted vCPU, the backend thread)
  RingIndices idx;                   // after the step
  std::uint32_t slot       = 0;      // the ring entry (index & (size - 1))
  std::uint32_t batch      = 0;
  std::uint32_t persistent = 0, mapped = 0;
  /** request_taken of a packet the backend receives for the guest (a net Rx ring): the ring's requests are buffers
   * the frontend posted beforehand, and the packet fills the one taken. */
  bool into_posted_buffer = false;
  /** response_pushed by a backend that decides whether to notify later, for the batch (a `signalled` step). */
  bool signal_later = false;
};

/** The text of a step, for the trace's event names. */
inline const char* path_step_name(PathEvent::What w)
{
  switch (w) {
  case PathEvent::What::request_pushed:
    return "request pushed";
  case PathEvent::What::request_taken:
    return "request taken";
  case PathEvent::What::grants:
    return "grants";
  case PathEvent::What::response_pushed:
    return "response pushed";
  case PathEvent::What::response_taken:
    return "response taken";
  case PathEvent::What::signalled:
    return "responses signalled";
  }
  return "?";
}

} // namespace pvsim
