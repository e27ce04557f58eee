/* pvsim: the indices of one Xen shared I/O ring (xen/include/public/io/ring.h), without payload.
 *
 * Models: the four shared RING_IDX of struct *_sring (req_prod, req_event, rsp_prod, rsp_event), the front end's
 * private req_prod_pvt and rsp_cons, the back end's private req_cons and rsp_prod_pvt, and the macros that move
 * them: RING_FREE_REQUESTS, RING_FULL, RING_PUSH_{REQUESTS,RESPONSES}_AND_CHECK_NOTIFY,
 * RING_HAS_UNCONSUMED_{REQUESTS,RESPONSES} (the request count clamped by the free response slots),
 * RING_FINAL_CHECK_FOR_{REQUESTS,RESPONSES}, RING_REQUEST_CONS_OVERFLOW and RING_REQUEST_PROD_OVERFLOW. Indices are
 * 32-bit unsigned and wrap as in Xen; slot k is index & (size - 1). Counts notifications sent and suppressed in each
 * direction and exposes the occupancy (requests produced and not yet answered) for a time-average collector.
 * Leaves out: the request and response payloads, memory barriers (every operation is atomic here, so the race the
 * final checks guard against shows up as "the other end acted just before the check", never inside it), the event
 * channel itself (see event_channel_state.hpp), the custom batching FINAL_CHECK variants ring.h invites, and the
 * FLEX rings of DEFINE_XEN_FLEX_RING.
 *
 * How the Linux block drivers drive these macros (drivers/block/xen-blkfront.c, xen-blkback/blkback.c):
 * - xen-blkfront blkif_queue_rq(): RING_FULL check, one req_prod_pvt++ per request, then flush_requests() =
 *   RING_PUSH_REQUESTS_AND_CHECK_NOTIFY and notify_remote_via_irq() only if told to, for every request.
 * - xen-blkfront blkif_interrupt(): consume responses up to rsp_prod, then if requests are still outstanding
 *   RING_FINAL_CHECK_FOR_RESPONSES (loop again if it finds some), else rsp_event = rsp_cons + 1 directly.
 * - xen-blkback do_block_io_op(): __do_block_io_op() consumes every request up to the req_prod it read (stopping on
 *   RING_REQUEST_CONS_OVERFLOW or when no pending_req is free), then RING_FINAL_CHECK_FOR_REQUESTS; repeats while
 *   that finds more. make_response() pushes each response on its own with RING_PUSH_RESPONSES_AND_CHECK_NOTIFY. */
#pragma once

#include "sim/path_event.hpp"
#include "sim/stats.hpp"

#include <cstdint>

namespace pvsim::xen {

/** RING_IDX: a free-running 32-bit index; the slot is index & (size - 1). */
using RingIdx = std::uint32_t;

class SharedRing {
public:
  /** SHARED_RING_INIT then FRONT_RING_ATTACH / BACK_RING_ATTACH at index `start` (0 for *_RING_INIT): every index is
   * `start`, req_event = rsp_event = start + 1 (SHARED_RING_INIT's 1, shifted), so the first push notifies. `slots`
   * must be a power of two (__RING_SIZE rounds down to one); throws std::invalid_argument otherwise. */
  explicit SharedRing(std::uint32_t slots, RingIdx start = 0);
  /** A blkif ring of 2^ring_page_order pages: BLK_RING_SIZE = 32 << ring_page_order slots (xen-blkfront.c). */
  static SharedRing blkif(unsigned ring_page_order, RingIdx start = 0);

  /** RING_SIZE. */
  std::uint32_t size() const { return size_; }

  // The shared page.
  RingIdx req_prod() const { return req_prod_; }
  RingIdx req_event() const { return req_event_; }
  RingIdx rsp_prod() const { return rsp_prod_; }
  RingIdx rsp_event() const { return rsp_event_; }
  // The front end's private indices.
  RingIdx req_prod_pvt() const { return req_prod_pvt_; }
  RingIdx rsp_cons() const { return rsp_cons_; }
  // The back end's private indices.
  RingIdx req_cons() const { return req_cons_; }
  RingIdx rsp_prod_pvt() const { return rsp_prod_pvt_; }

  /** All the indices at once (for the trace and `pvsim explain`). */
  RingIndices indices() const
  {
    return {RingIndices::Kind::xen, size_, req_prod_, req_event_, rsp_prod_, rsp_event_, req_cons_, rsp_cons_};
  }
  /** The slot of an index: index & (size - 1). */
  std::uint32_t slot(RingIdx i) const { return i & (size_ - 1); }

  // ---- Front end (requests on, responses off) ----
  /** RING_FREE_REQUESTS: size - (req_prod_pvt - rsp_cons). */
  std::uint32_t free_requests() const;
  /** RING_FULL: no free request slot. */
  bool full() const { return free_requests() == 0; }
  /** Fills the slot at req_prod_pvt and advances it (not yet visible to the back end). Throws std::logic_error when
   * the ring is full: the macros do no flow control, the driver must check RING_FULL first. */
  void produce_request();
  /** RING_PUSH_REQUESTS_AND_CHECK_NOTIFY: req_prod = req_prod_pvt; true iff req_event lies in (old req_prod, new
   * req_prod], i.e. (RING_IDX)(new - req_event) < (RING_IDX)(new - old). */
  bool push_requests_and_check_notify();
  /** RING_HAS_UNCONSUMED_RESPONSES: rsp_prod - rsp_cons. */
  std::uint32_t unconsumed_responses() const { return rsp_prod_ - rsp_cons_; }
  /** rsp_cons++. Throws std::logic_error when no published response is left. */
  void consume_response();
  /** RING_FINAL_CHECK_FOR_RESPONSES: true if responses are unconsumed; otherwise rsp_event = rsp_cons + 1 (the next
   * response pushed will notify) and the re-check's answer. */
  bool final_check_for_responses();

  // ---- Back end (requests off, responses on) ----
  /** RING_HAS_UNCONSUMED_REQUESTS: min(req_prod - req_cons, size - (req_cons - rsp_prod_pvt)). */
  std::uint32_t unconsumed_requests() const;
  /** req_cons++. Throws std::logic_error when unconsumed_requests() is 0. */
  void consume_request();
  /** RING_REQUEST_CONS_OVERFLOW(req_cons): (req_cons - rsp_prod_pvt) >= size, i.e. consuming one more request would
   * leave no slot for its response. blkback's consumer loop stops on it. */
  bool request_cons_overflow() const;
  /** RING_REQUEST_PROD_OVERFLOW(req_prod): (req_prod - rsp_prod_pvt) > size, an ill-behaved front end
   * (__do_block_io_op() halts the ring on it). */
  bool request_prod_overflow() const;
  /** Fills the slot at rsp_prod_pvt and advances it. Throws std::logic_error if every consumed request already has
   * a response (rsp_prod_pvt == req_cons). */
  void produce_response();
  /** RING_PUSH_RESPONSES_AND_CHECK_NOTIFY: rsp_prod = rsp_prod_pvt; true iff rsp_event lies in (old, new]. */
  bool push_responses_and_check_notify();
  /** RING_FINAL_CHECK_FOR_REQUESTS: true if requests are unconsumed; otherwise req_event = req_cons + 1 and the
   * re-check's answer. */
  bool final_check_for_requests();

  /** What a buggy or hostile front end can do: write any value into the shared req_prod (tests the back end's
   * clamp and overflow checks). */
  void write_req_prod_as_rogue_frontend(RingIdx value) { req_prod_ = value; }

  // ---- Statistics ----
  /** Pushes of at least one new request that did / did not ask to notify the back end. Empty pushes count in
   * neither. */
  std::uint64_t request_notifications_sent() const { return req_notify_sent_.get(); }
  std::uint64_t request_notifications_suppressed() const { return req_notify_suppressed_.get(); }
  /** Pushes of at least one new response that did / did not ask to notify the front end. */
  std::uint64_t response_notifications_sent() const { return rsp_notify_sent_.get(); }
  std::uint64_t response_notifications_suppressed() const { return rsp_notify_suppressed_.get(); }
  /** The four notification counters, as statistics the owning model registers (sim/stats.hpp). */
  Counter& stat_requests_notified() { return req_notify_sent_; }
  Counter& stat_requests_suppressed() { return req_notify_suppressed_; }
  Counter& stat_responses_notified() { return rsp_notify_sent_; }
  Counter& stat_responses_suppressed() { return rsp_notify_suppressed_; }
  /** Restarts them with `set` at the end of the warm-up, for a model that reports them by hand. */
  void track_stats(StatSet& set)
  {
    set.track(req_notify_sent_, req_notify_suppressed_, rsp_notify_sent_, rsp_notify_suppressed_);
  }
  /** Slots in use: requests the front end produced whose responses it has not consumed (req_prod_pvt - rsp_cons).
   * Piecewise constant between operations; sample it into a pvsim::TimeAverage after each one. */
  std::uint32_t occupancy() const { return req_prod_pvt_ - rsp_cons_; }

private:
  std::uint32_t size_;
  RingIdx req_prod_;
  RingIdx req_event_;
  RingIdx rsp_prod_;
  RingIdx rsp_event_;
  RingIdx req_prod_pvt_;
  RingIdx rsp_cons_;
  RingIdx req_cons_;
  RingIdx rsp_prod_pvt_;
  Counter req_notify_sent_;
  Counter req_notify_suppressed_;
  Counter rsp_notify_sent_;
  Counter rsp_notify_suppressed_;
};

} // namespace pvsim::xen
