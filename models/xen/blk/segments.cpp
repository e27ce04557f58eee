#include "models/xen/blk/segments.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace pvsim::xen {

unsigned blkif_segments(std::uint64_t bytes, unsigned offset_in_page)
{
  if (offset_in_page >= xen_page_size)
    throw std::invalid_argument("offset in page must be below 4096, got " + std::to_string(offset_in_page));
  if (bytes == 0)
    return 0;
  // gnttab_count_grant(offset, len): the Xen pages a buffer touches (one grant, hence one segment, each).
  std::uint64_t end = offset_in_page + bytes;
  return static_cast<unsigned>((end + xen_page_size - 1) / xen_page_size);
}

BlkifRequestLayout blkif_request_layout(unsigned segments)
{
  if (segments > blkif_max_indirect_segments_protocol)
    throw std::invalid_argument("a blkif request carries at most " +
                                std::to_string(blkif_max_indirect_segments_protocol) + " segments, got " +
                                std::to_string(segments));
  BlkifRequestLayout l;
  l.segments       = segments;
  l.indirect       = blkif_needs_indirect(segments);
  l.indirect_pages = blkif_indirect_pages(segments);
  l.ring_slots     = 1; // the indirect grefs travel in the request itself (indirect_grefs[8])
  l.grants         = segments + l.indirect_pages;
  return l;
}

BlkifRequestLayout blkif_request_layout_for_bytes(std::uint64_t bytes, unsigned offset_in_page)
{
  return blkif_request_layout(blkif_segments(bytes, offset_in_page));
}

unsigned blkfront_negotiated_indirect_segments(unsigned backend_max_indirect_segments,
                                               unsigned frontend_max_indirect_segments)
{
  // xlblk_init(): the module parameter is raised to BLKIF_MAX_SEGMENTS_PER_REQUEST; then
  // blkfront_gather_backend_features(): min(backend, frontend), and 0 (no indirect) at or below 11.
  unsigned frontend = std::max(frontend_max_indirect_segments, blkif_max_segments_per_request);
  unsigned n        = std::min(backend_max_indirect_segments, frontend);
  return n <= blkif_max_segments_per_request ? 0 : n;
}

unsigned blkfront_requests_for(std::uint64_t bytes, unsigned segment_limit, unsigned offset_in_page)
{
  if (segment_limit == 0)
    throw std::invalid_argument("segment limit must be positive");
  unsigned segments = blkif_segments(bytes, offset_in_page);
  if (segments == 0)
    return 1;
  // Greedy cutting at page boundaries: the first piece ends on a page boundary, so every piece has at most
  // segment_limit pages and at most segment_limit * 4096 bytes, as both queue limits require.
  return (segments + segment_limit - 1) / segment_limit;
}

bool blkfront_must_split(std::uint64_t bytes, unsigned segment_limit, unsigned offset_in_page)
{
  return blkfront_requests_for(bytes, segment_limit, offset_in_page) > 1;
}

} // namespace pvsim::xen
