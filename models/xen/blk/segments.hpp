/* pvsim: how a block I/O maps onto blkif requests, segments, indirect pages, grants and ring slots.
 *
 * Models: the segment count of a buffer in 4 KiB grant pages (one struct blkif_request_segment per page),
 * BLKIF_OP_INDIRECT above BLKIF_MAX_SEGMENTS_PER_REQUEST (11) segments with 512 segment descriptors per indirect page
 * (XEN_PAGE_SIZE / sizeof(struct blkif_request_segment): gref (4 bytes), first_sect, last_sect (1 + 1) and 2 bytes
 * of tail padding = 8 bytes), at most BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST (8) indirect pages, grants = segments +
 * indirect pages, one ring slot per request; blkfront's negotiated segment limit (feature-max-indirect-segments
 * capped by its max_indirect_segments, 0 at or below 11: blkfront_gather_backend_features()), the number of blkif
 * requests the block layer splits an I/O into under the queue limits blkfront sets (blkif_set_queue_limits():
 * max_segments and max_hw_sectors both from that limit), and the tag set depth (xlvbd_alloc_gendisk():
 * tag_set.queue_depth = BLK_RING_SIZE, halved only when HAS_EXTRA_REQ and no indirect descriptors).
 * Leaves out: persistent grants (which make grants reusable, not fewer: models/xen/blk/blkif_grants.hpp), discard and
 * flush requests (no segments), guest pages other than 4 KiB except in the HAS_EXTRA_REQ rule, scatter-gather buffers
 * that are not physically contiguous (each discontiguity costs a segment), and blkback's own request splitting into
 * bios. */
#pragma once

#include "models/xen/blk/blkif_negotiation.hpp"
#include "models/xen/ring.hpp"

#include <cstddef>
#include <cstdint>

namespace pvsim::xen {

/** sizeof(struct blkif_request_segment) (blkif.h): grant_ref_t gref, uint8_t first_sect, last_sect, padded to 8. */
constexpr std::size_t blkif_segment_descriptor_bytes = 8;
/** SEGS_PER_INDIRECT_FRAME (xen-blkback/common.h) = GRANTS_PER_INDIRECT_FRAME (xen-blkfront.c): 4096 / 8. */
constexpr unsigned blkif_segments_per_indirect_page =
    static_cast<unsigned>(xen_page_size / blkif_segment_descriptor_bytes);
/** BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST (blkif.h): room for indirect_grefs[] in one ring slot. */
constexpr unsigned blkif_max_indirect_pages_per_request = 8;
/** The protocol's ceiling on segments per indirect request: 8 indirect pages of 512 descriptors. */
constexpr unsigned blkif_max_indirect_segments_protocol =
    blkif_max_indirect_pages_per_request * blkif_segments_per_indirect_page;
/** MAX_INDIRECT_SEGMENTS (xen-blkback/common.h), advertised as feature-max-indirect-segments. */
constexpr unsigned blkback_max_indirect_segments = 256;
/** xen-blkfront's max_indirect_segments module parameter default (xen_blkif_max_segments). */
constexpr unsigned blkfront_default_max_indirect_segments = 32;

static_assert(blkif_segments_per_indirect_page == 512);
static_assert(blkif_max_indirect_segments_protocol == 4096);

/** Segments (4 KiB grant pages) spanned by a physically contiguous buffer of `bytes` starting `offset_in_page` bytes
 * into a page: ceil((offset_in_page + bytes) / 4096), 0 for 0 bytes. Throws std::invalid_argument when
 * offset_in_page >= 4096. */
unsigned blkif_segments(std::uint64_t bytes, unsigned offset_in_page = 0);

/** Whether a request of `segments` segments goes out as BLKIF_OP_INDIRECT: more than BLKIF_MAX_SEGMENTS_PER_REQUEST
 * (blkif_queue_rw_req(): num_grant > BLKIF_MAX_SEGMENTS_PER_REQUEST). */
constexpr bool blkif_needs_indirect(unsigned segments)
{
  return segments > blkif_max_segments_per_request;
}

/** Indirect pages for `segments`: INDIRECT_GREFS() = ceil(segments / 512) for an indirect request, 0 otherwise. */
constexpr unsigned blkif_indirect_pages(unsigned segments)
{
  return blkif_needs_indirect(segments)
             ? (segments + blkif_segments_per_indirect_page - 1) / blkif_segments_per_indirect_page
             : 0;
}

/** One blkif request on the ring. */
struct BlkifRequestLayout {
  unsigned segments       = 0;     // data grants, one per 4 KiB page
  bool indirect           = false; // BLKIF_OP_INDIRECT
  unsigned indirect_pages = 0;     // pages of segment descriptors, each granted too
  unsigned ring_slots     = 1;     // a blkif request always takes exactly one slot
  unsigned grants         = 0;     // segments + indirect_pages
};

/** The layout of one request of `segments` segments. Throws std::invalid_argument above the protocol's 4096. */
BlkifRequestLayout blkif_request_layout(unsigned segments);
/** The layout of one request carrying a contiguous buffer of `bytes` (see blkif_segments()). */
BlkifRequestLayout blkif_request_layout_for_bytes(std::uint64_t bytes, unsigned offset_in_page = 0);

/** Segments per request after the handshake (blkfront_gather_backend_features()): the backend's
 * feature-max-indirect-segments capped by the frontend's max_indirect_segments (itself raised to at least 11 by
 * xlblk_init()); a result at or below 11 means no indirect descriptors and is returned as 0. */
unsigned
blkfront_negotiated_indirect_segments(unsigned backend_max_indirect_segments,
                                      unsigned frontend_max_indirect_segments = blkfront_default_max_indirect_segments);

/** The segment limit of one request (blkif_set_queue_limits(): max_indirect_segments ?: 11). */
constexpr unsigned blkif_segment_limit(unsigned negotiated_indirect_segments)
{
  return negotiated_indirect_segments != 0 ? negotiated_indirect_segments : blkif_max_segments_per_request;
}
inline unsigned blkif_segment_limit(const BlkifNegotiation& n)
{
  return n.segments_per_request();
}

/** How many blkif requests a contiguous I/O of `bytes` becomes: blkfront sets max_segments = limit and
 * max_hw_sectors = limit * 4096 / 512, so the block layer cuts the bio into pieces of at most `segment_limit` pages
 * before blkif_queue_rq() sees them (blkfront itself never splits with 4 KiB guest pages). 0 bytes: 1 request (a
 * flush). Throws std::invalid_argument for a zero limit. */
unsigned blkfront_requests_for(std::uint64_t bytes, unsigned segment_limit, unsigned offset_in_page = 0);
/** Whether that I/O is split: more segments than the limit. */
bool blkfront_must_split(std::uint64_t bytes, unsigned segment_limit, unsigned offset_in_page = 0);

/** HAS_EXTRA_REQ (xen-blkfront.c): BLKIF_MAX_SEGMENTS_PER_REQUEST < XEN_PFN_PER_PAGE, i.e. guest pages larger than
 * 11 Xen pages (64 KiB pages on arm64); false for 4 KiB guests. */
constexpr bool blkfront_has_extra_req(std::size_t guest_page_size = xen_page_size)
{
  return blkif_max_segments_per_request < guest_page_size / xen_page_size;
}

/** Ring slots one block-layer request may need: 2 when HAS_EXTRA_REQ and no indirect descriptors (blkif_queue_rw_req()
 * then uses an extra request for the grants past the 11th), otherwise 1. */
constexpr unsigned blkfront_max_slots_per_request(unsigned negotiated_indirect_segments,
                                                  std::size_t guest_page_size = xen_page_size)
{
  return blkfront_has_extra_req(guest_page_size) && negotiated_indirect_segments == 0 ? 2 : 1;
}

/** tag_set.queue_depth (xlvbd_alloc_gendisk()): BLK_RING_SIZE, divided by 2 when HAS_EXTRA_REQ and no indirect
 * descriptors; i.e. ring slots / slots per request. Per hardware queue: the tag set has nr_hw_queues = nr_rings. */
constexpr unsigned blkfront_queue_depth(unsigned ring_page_order, unsigned negotiated_indirect_segments,
                                        std::size_t guest_page_size = xen_page_size)
{
  return blkif_ring_slots(ring_page_order) /
         blkfront_max_slots_per_request(negotiated_indirect_segments, guest_page_size);
}

static_assert(blkfront_queue_depth(0, 0) == 32 && blkfront_queue_depth(4, 0) == 512);
static_assert(blkfront_queue_depth(0, 0, 65536) == 16 && blkfront_queue_depth(0, 32, 65536) == 32);

} // namespace pvsim::xen
