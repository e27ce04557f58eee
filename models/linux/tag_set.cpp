#include "models/linux/tag_set.hpp"

#include <stdexcept>

namespace pvsim {

TagSet::TagSet(Owner& owner, int set_index, int depth)
    : owner_(owner), index_(set_index), depth_(depth), wake_batch_(wake_batch_of(depth))
{
  for (int t = depth - 1; t >= 0; --t)
    free_.push_back(t);
}

void TagSet::get(Request* r)
{
  double now = events_->now();
  r->stage_s = now;
  issued_++;
  probe_.emit({StationEvent::What::arrive, now, r, now});
  if (free_.empty()) {
    ++waits_;
    waiters_.push(r);
    return;
  }
  grant(r, false);
}

void TagSet::grant(Request* r, bool waited)
{
  r->tag = free_.back();
  free_.pop_back();
  in_use_++;
  probe_.emit({StationEvent::What::start, events_->now(), r, r->stage_s});
  // sbitmap wakes a sleeping submitter once per wake_batch tags freed, and the woken task takes the tags freed
  // meanwhile without sleeping again: one sleep ends per wake_batch requests that waited.
  bool woken = waited and ++waited_since_wake_ >= wake_batch_;
  if (woken)
    waited_since_wake_ = 0;
  owner_.tag_granted(r, index_, woken);
}

void TagSet::put(Request* r, double arrived_s)
{
  if (r->tag < 0)
    throw std::logic_error("TagSet::put: request holds no tag");
  free_.push_back(r->tag);
  r->tag = -1;
  in_use_--;
  completed_++;
  probe_.emit({StationEvent::What::depart, events_->now(), r, arrived_s});
  if (Request* w = waiters_.pop())
    grant(w, true);
}

Occupancy TagSet::occupancy() const
{
  return {issued_, completed_, static_cast<std::uint64_t>(in_use_) + waiters_.size()};
}

} // namespace pvsim
