#include "models/xen/shared_ring.hpp"
#include "models/xen/ring.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace pvsim::xen {

namespace {

/** The notification hold-off test shared by both RING_PUSH_*_AND_CHECK_NOTIFY macros (ring.h): the event index
 * lies in (old, new] in modular arithmetic. With old == new the interval is empty and nobody is notified. */
bool event_in_window(RingIdx event, RingIdx old_idx, RingIdx new_idx)
{
  return static_cast<RingIdx>(new_idx - event) < static_cast<RingIdx>(new_idx - old_idx);
}

} // namespace

SharedRing::SharedRing(std::uint32_t slots, RingIdx start)
    : size_(slots), req_prod_(start), req_event_(start + 1) // SHARED_RING_INIT: req_event = rsp_event = 1
      ,
      rsp_prod_(start), rsp_event_(start + 1), req_prod_pvt_(start) // FRONT_RING_ATTACH
      ,
      rsp_cons_(start), req_cons_(start) // BACK_RING_ATTACH
      ,
      rsp_prod_pvt_(start)
{
  // __RING_SIZE rounds down to a power of two so that RING_GET_REQUEST can mask with (size - 1).
  if (slots == 0 || (slots & (slots - 1)) != 0)
    throw std::invalid_argument("shared ring size must be a power of two, got " + std::to_string(slots));
}

SharedRing SharedRing::blkif(unsigned ring_page_order, RingIdx start)
{
  // BLK_RING_SIZE(info) = __CONST_RING_SIZE(blkif, XEN_PAGE_SIZE * nr_ring_pages) (xen-blkfront.c).
  return SharedRing(blkif_ring_slots(ring_page_order), start);
}

std::uint32_t SharedRing::free_requests() const
{
  return size_ - (req_prod_pvt_ - rsp_cons_); // RING_FREE_REQUESTS
}

void SharedRing::produce_request()
{
  // blkif_queue_rq() checks RING_FULL before blkif_ring_get_request() advances req_prod_pvt.
  if (full())
    throw std::logic_error("produce_request on a full ring (RING_FULL)");
  ++req_prod_pvt_;
}

bool SharedRing::push_requests_and_check_notify()
{
  RingIdx old_prod = req_prod_;
  req_prod_        = req_prod_pvt_;
  bool notify      = event_in_window(req_event_, old_prod, req_prod_);
  if (req_prod_ != old_prod)
    ++(notify ? req_notify_sent_ : req_notify_suppressed_);
  return notify;
}

void SharedRing::consume_response()
{
  if (unconsumed_responses() == 0)
    throw std::logic_error("consume_response with no published response");
  ++rsp_cons_;
}

bool SharedRing::final_check_for_responses()
{
  // RING_FINAL_CHECK_FOR_RESPONSES; blkif_interrupt() sets rsp_event = rsp_cons + 1 itself when nothing is
  // outstanding, which comes to the same.
  if (unconsumed_responses() != 0)
    return true;
  rsp_event_ = rsp_cons_ + 1;
  return unconsumed_responses() != 0;
}

std::uint32_t SharedRing::unconsumed_requests() const
{
  // XEN_RING_NR_UNCONSUMED_REQUESTS: published requests, clamped by the response slots left, so that a front end
  // advancing req_prod too far cannot make the back end overrun its own responses.
  std::uint32_t req = req_prod_ - req_cons_;
  std::uint32_t rsp = size_ - (req_cons_ - rsp_prod_pvt_);
  return std::min(req, rsp);
}

void SharedRing::consume_request()
{
  if (unconsumed_requests() == 0)
    throw std::logic_error("consume_request with no unconsumed request");
  ++req_cons_; // __do_block_io_op(): req_cons = ++rc, before make_response()
}

bool SharedRing::request_cons_overflow() const
{
  return static_cast<RingIdx>(req_cons_ - rsp_prod_pvt_) >= size_; // RING_REQUEST_CONS_OVERFLOW
}

bool SharedRing::request_prod_overflow() const
{
  return static_cast<RingIdx>(req_prod_ - rsp_prod_pvt_) > size_; // RING_REQUEST_PROD_OVERFLOW
}

void SharedRing::produce_response()
{
  if (rsp_prod_pvt_ == req_cons_)
    throw std::logic_error("produce_response with every consumed request already answered");
  ++rsp_prod_pvt_;
}

bool SharedRing::push_responses_and_check_notify()
{
  RingIdx old_prod = rsp_prod_;
  rsp_prod_        = rsp_prod_pvt_;
  bool notify      = event_in_window(rsp_event_, old_prod, rsp_prod_);
  if (rsp_prod_ != old_prod)
    ++(notify ? rsp_notify_sent_ : rsp_notify_suppressed_);
  return notify;
}

bool SharedRing::final_check_for_requests()
{
  // RING_FINAL_CHECK_FOR_REQUESTS, as do_block_io_op() uses it after each __do_block_io_op() pass.
  if (unconsumed_requests() != 0)
    return true;
  req_event_ = req_cons_ + 1;
  return unconsumed_requests() != 0;
}

} // namespace pvsim::xen
