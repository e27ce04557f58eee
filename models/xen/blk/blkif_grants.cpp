#include "models/xen/blk/blkif_grants.hpp"

namespace pvsim::xen {

BlkfrontGrantPool::BlkfrontGrantPool(std::size_t entries) : without_ref_(entries) {}

GrantRef BlkfrontGrantPool::take_one(unsigned& fresh)
{
  GrantRef ref = no_ref;
  if (not with_ref_.empty()) { // get_free_grant(): list_first_entry()
    ref = with_ref_.back();
    with_ref_.pop_back();
  } else if (without_ref_ > 0) {
    --without_ref_;
  } // else: a request above the negotiated segment limit (the block layer would have split it) takes a new entry
  if (ref == no_ref) { // get_grant(): claim a reference and grant the page
    ref = next_ref_++;
    ++fresh;
  }
  return ref;
}

BlkifShadowGrants BlkfrontGrantPool::take(unsigned segments, unsigned indirect_pages)
{
  BlkifShadowGrants g;
  take_into(segments, indirect_pages, g);
  return g;
}

void BlkfrontGrantPool::take_into(unsigned segments, unsigned indirect_pages, BlkifShadowGrants& g)
{
  g.data.clear();
  g.indirect.clear();
  g.fresh = 0;
  for (unsigned i = 0; i < segments; ++i) {
    if (indirect_pages > 0 and i % blkif_segments_per_indirect_page == 0)
      g.indirect.push_back(take_one(g.fresh)); // the indirect page before the segments it describes
    g.data.push_back(take_one(g.fresh));
  }
}

void BlkfrontGrantPool::put(GrantRef ref, bool persistent)
{
  if (persistent) {
    with_ref_.push_back(ref); // list_add(): reused first
  } else {
    ++without_ref_; // foreign access ended, reference released, list_add_tail()
  }
}

void PersistentGrantTree::map_one(GrantRef ref, bool use_persistent, MapResult& r)
{
  if (use_persistent and holds(ref)) { // get_persistent_gnt()
    ++r.hits;
    return;
  }
  ++r.mapped;
  std::size_t& budget = shared_count_ != nullptr ? *shared_count_ : count_;
  if (use_persistent and budget < max_) { // add_persistent_gnt()
    if (ref >= held_.size())
      held_.resize(ref + 1, false);
    held_[ref] = true;
    if (shared_count_ != nullptr)
      ++*shared_count_;
    ++count_;
    ++r.kept;
    return;
  }
  if (use_persistent)
    overflow_ = true;
  ++r.unmapped;
}

PersistentGrantTree::MapResult PersistentGrantTree::map(const BlkifShadowGrants& g, bool use_persistent)
{
  MapResult r;
  for (GrantRef ref : g.indirect) // xen_blkbk_parse_indirect() maps the indirect pages first
    map_one(ref, use_persistent, r);
  for (GrantRef ref : g.data)
    map_one(ref, use_persistent, r);
  hits_ += r.hits;
  maps_ += r.mapped;
  unmaps_ += r.unmapped;
  return r;
}

} // namespace pvsim::xen
