/* pvsim: the grant references of a blkif ring's requests: xen-blkfront's per-ring pool of grants and xen-blkback's
 * per-ring tree of persistently mapped grants.
 *
 * Frontend (drivers/block/xen-blkfront.c). blkfront_setup_indirect() fills each ring's free list rinfo->grants
 * (fill_grant_buffer()) with one entry per grant a full ring can use, none holding a reference yet. Submitting a
 * request (blkif_queue_rw_req(), blkif_setup_rw_req_grant()) takes entries from the head of that list
 * (get_free_grant(): list_first_entry), for an indirect request each indirect page's grant (get_indirect_grant())
 * before the 512 segments it describes; an entry without a reference claims a new one and grants its page to the
 * backend (get_grant(): gnttab_claim_grant_reference(), gnttab_grant_foreign_access_ref()), an entry with one is
 * reused as it is. At completion blkif_completion() gives back the data grants (grants_used[], in order) then the
 * indirect grants: one the backend still maps (gnttab_try_end_foreign_access() fails: the backend kept it
 * persistently) goes back to the head (list_add), so the last returned is the first reused (LIFO); any other has its
 * foreign access ended, loses its reference and goes to the tail (list_add_tail), to be taken only when no persistent
 * entry is free. So the references the backend sees are as many as the segments in flight: at depth 1 the same few
 * come back request after request.
 *
 * Backend (drivers/block/xen-blkback/blkback.c). Per ring (struct xen_blkif_ring, since multi-queue blkback in 4.6)
 * an rb-tree of persistent grants, persistent_gnts, and its count persistent_gnt_c. xen_blkbk_map(), for each grant
 * of a request (the indirect pages first, through xen_blkbk_parse_indirect(), then the data segments), looks it up
 * (get_persistent_gnt()): found, nothing to map; not found, it is mapped (gnttab_map_refs()) and, while the ring uses
 * persistent grants and persistent_gnt_c < max_pgrants (module parameter max_persistent_grants, 1056), added to the
 * tree (add_persistent_gnt(), which sets vbd.overflow_max_grants when the tree is full); otherwise the mapping is for
 * this request only and xen_blkbk_unmap() undoes it when the request ends (gnttab_unmap_refs(), batched).
 * Before it was merged, the multi-queue series kept that tree in struct xen_blkif, one per device for all its rings,
 * until its v4 patch 10 ("xen/blkback: make pool of persistent grants and free pages per-queue", Nov 2015): the 2015
 * RFC's figures ran that way. share_budget() gives several rings' trees one max_pgrants count (xen.blkback
 * pgrants_pool "device"); the lock around the shared tree and the frontend's per-device list of grants of the same
 * series (per queue from v4 patch 9) are left out.
 *
 * Leaves out: purge_persistent_gnt(), which xen_blkif_schedule() runs every LRU_INTERVAL (100 ms): once
 * overflow_max_grants is set it unmaps LRU_PERCENT_CLEAN (5 %) of max_pgrants (50 grants) that no request is using,
 * and it drops grants unused for persistent_grant_unused_seconds (pgrant_timeout, 60 s; the kernel release that
 * added this timeout is not verified here). At most some 500 extra maps a second per ring, against the per-request
 * maps of every segment beyond the cap; no grant idles for 60 s in a simulated run. Also left out: grant-table
 * exhaustion (gnttab_alloc_grant_references() failing and its callback), bounce buffers for non-4 KiB guest pages,
 * and the reference numbers themselves: a counter stands for the grant table's allocator (a reference the backend
 * maps cannot be ended, hence never freed and claimed again, so a fresh one is never in the backend's tree). */
#pragma once

#include "models/xen/blk/segments.hpp"
#include "sim/stats.hpp"

#include <cstdint>
#include <vector>

namespace pvsim::xen {

/** max_pgrants (blkback.c: module parameter max_persistent_grants): persistent grants per ring. */
constexpr unsigned blkback_max_persistent_grants = 1056;

/** A grant reference (grant_ref_t; wider here so that the counter standing for the allocator never wraps). */
using GrantRef = std::uint64_t;

/** The grants one request holds from submission to completion (struct blk_shadow: grants_used[],
 * indirect_grants[]), in the order blkfront took them. */
struct BlkifShadowGrants {
  std::vector<GrantRef> data;     // one per segment
  std::vector<GrantRef> indirect; // one per indirect page
  unsigned fresh = 0;             // grants that claimed a new reference (gnttab_grant_foreign_access_ref) when taken
};

/** Entries of a ring's free list (blkfront_setup_indirect(): fill_grant_buffer() of (grants + INDIRECT_GREFS(grants))
 * x BLK_RING_SIZE, grants being the segment limit of a request, INDIRECT_GREFS() rounding up to whole pages of 512). */
constexpr std::size_t blkfront_grants_per_ring(unsigned segment_limit, unsigned ring_slots)
{
  return (segment_limit + (segment_limit + blkif_segments_per_indirect_page - 1) / blkif_segments_per_indirect_page) *
         static_cast<std::size_t>(ring_slots);
}
static_assert(blkfront_grants_per_ring(32, 32) == 1056); // the default frontend's ring: max_pgrants' figure

/** xen-blkfront's free list of grants of one ring (rinfo->grants). */
class BlkfrontGrantPool {
public:
  /** `entries` free grants without a reference (fill_grant_buffer()). */
  explicit BlkfrontGrantPool(std::size_t entries = 0);

  /** Takes grants for a request of `segments` segments and `indirect_pages` indirect pages: for each indirect page
   * its grant, then up to 512 segments' (blkif_setup_rw_req_grant()). blkfront sizes the list so that a full ring
   * of requests within the negotiated segment limit never empties it; past the end, new entries are made. */
  BlkifShadowGrants take(unsigned segments, unsigned indirect_pages);
  /** The same into `g` (a ring slot's shadow entry), reusing its vectors' storage: no allocation per request. */
  void take_into(unsigned segments, unsigned indirect_pages, BlkifShadowGrants& g);
  /** blkif_completion(): gives back a finished request's grants, data then indirect, each at the head when
   * `still_mapped(ref)` (the backend keeps it persistently), otherwise without its reference at the tail. */
  template <class StillMapped>
  void give_back(const BlkifShadowGrants& g, StillMapped still_mapped)
  {
    for (GrantRef ref : g.data)
      put(ref, still_mapped(ref));
    for (GrantRef ref : g.indirect)
      put(ref, still_mapped(ref));
  }

  /** Free entries, and those of them holding a reference the backend maps (rinfo->persistent_gnts_c). */
  std::size_t free_grants() const { return with_ref_.size() + without_ref_; }
  std::size_t free_persistent() const { return with_ref_.size(); }
  /** The reference the next take() would reuse first (0: the head entry has none). */
  GrantRef head() const { return with_ref_.empty() ? 0 : with_ref_.back(); }

private:
  static constexpr GrantRef no_ref = 0; // INVALID_GRANT_REF
  GrantRef take_one(unsigned& fresh);
  void put(GrantRef ref, bool persistent);

  // The list is always its entries holding a reference (added at the head, taken from the head: a stack, its top at
  // the back) followed by entries without one (added at the tail, taken only once no entry holds a reference): a
  // stack and a count are the same list, holding only the references in use, where a 1056-entry list was 8 KiB per
  // ring from the start.
  std::vector<GrantRef> with_ref_;
  std::size_t without_ref_     = 0;
  GrantRef next_ref_           = 1;
};

/** xen-blkback's persistent grants of one ring (ring->persistent_gnts, persistent_gnt_c) and what mapping a
 * request's grants cost. */
class PersistentGrantTree {
public:
  explicit PersistentGrantTree(unsigned max_pgrants = blkback_max_persistent_grants) : max_(max_pgrants) {}

  /** What xen_blkbk_map() did with a request's grants. */
  struct MapResult {
    unsigned hits     = 0; // found in the tree: no hypercall
    unsigned mapped   = 0; // mapped (gnttab_map_refs), kept or not
    unsigned kept     = 0; // of those, added to the tree
    unsigned unmapped = 0; // of those, unmapped when the request ends (xen_blkbk_unmap)
  };
  /** Maps a request's grants (indirect pages then data); `use_persistent`: the ring negotiated feature-persistent.
   * Updates the statistics. */
  MapResult map(const BlkifShadowGrants& g, bool use_persistent);

  /** One max_pgrants budget for several rings' trees (the device's, `count`): the multi-queue series before v4's
   * patch 10 kept one tree per xen_blkif for all its rings. Each ring's grants are its own (the frontend's references
   * of different rings are distinct), so per-ring sets under one shared count are that one tree. */
  void share_budget(std::size_t* count) { shared_count_ = count; }

  /** Whether the backend maps `ref` persistently (what gnttab_try_end_foreign_access() finds in the frontend). */
  bool holds(GrantRef ref) const { return ref < held_.size() and held_[ref]; }
  /** The grants this ring's tree holds (persistent_gnt_c of a per-ring tree), and max_pgrants. */
  std::size_t size() const { return count_; }
  unsigned max_pgrants() const { return max_; }
  /** vbd.overflow_max_grants: a grant found the tree full. */
  bool overflowed() const { return overflow_; }

  // ---- Statistics (windowed; the owning model registers them) ----
  Counter& stat_hits() { return hits_; }
  Counter& stat_maps() { return maps_; }
  Counter& stat_unmaps() { return unmaps_; }

private:
  void map_one(GrantRef ref, bool use_persistent, MapResult& r);

  unsigned max_;
  // The kernel's red-black tree keyed by gref; pvsim's references are dense small integers (the frontend's pool
  // numbers them in order), so a bitmap indexed by reference holds the same set.
  std::vector<bool> held_;
  std::size_t count_         = 0;
  std::size_t* shared_count_ = nullptr; // the device's count when the budget is shared (share_budget())
  bool overflow_     = false;
  Counter hits_, maps_, unmaps_;
};

} // namespace pvsim::xen
