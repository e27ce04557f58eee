/* pvsim: a blk-mq tag set of one hardware queue (struct blk_mq_tags): `depth` tags, one per request in the driver.
 * A request that finds no free tag waits, in order, until a completion frees one (blk_mq_get_tag sleeping on the
 * tag wait queue); the waits are counted. A sleeping submitter is woken once per wake_batch freed tags and then takes
 * the tags freed meanwhile without sleeping again (lib/sbitmap.c: sbitmap_queue_wake_up(), sbq_calc_wake_batch()),
 * so one grant in wake_batch of those that waited ends a sleep: the owner is told which. Tag numbers are real indices
 * (drivers use them as request ids, as xen-blkfront does for its ring's id field), reused most-recently-freed first
 * like sbitmap's per-CPU hints. Leaves out: reserved tags, shared tag sets across queues (BLK_MQ_F_TAG_QUEUE_SHARED
 * fairness), the scheduler's separate tags. */
#pragma once

#include "sim/event_queue.hpp"
#include "sim/request.hpp"
#include "sim/station.hpp"
#include "sim/stats.hpp"

#include <algorithm>
#include <vector>

namespace pvsim {

class TagSet : public Station {
public:
  class Owner {
  public:
    virtual ~Owner() = default;
    /** `r` got tag r->tag, at once or after waiting for a completion to free one; `woken`: this grant ends a
     * submitter's sleep (one per wake_batch requests that waited, see below). */
    virtual void tag_granted(Request* r, int set_index, bool woken) = 0;
  };

  TagSet(Owner& owner, int set_index, int depth);
  void attach(EventQueue& events) { events_ = &events; }

  /** Asks for a tag for `r`; the owner hears of it through tag_granted(), now or when one is freed. */
  void get(Request* r);
  /** Frees r's tag; the oldest waiter gets it. `arrived_s` is when r asked for its tag (the caller keeps it, in
   * its end_io frame: r->stage_s belongs to the stages downstream while the tag is held). */
  void put(Request* r, double arrived_s);

  int depth() const { return depth_; }
  int in_use() const { return in_use_; }
  std::size_t waiting() const { return waiters_.size(); }
  std::uint64_t waits() const { return waits_.get(); }
  /** Requests that found no free tag, as a statistic the owning model registers (sim/stats.hpp). */
  Counter& stat_waits() { return waits_; }
  /** Requests that got a tag here and went on to the driver, counted by the owner (blk-mq's hctx "dispatched"): kept
   * with the tags, whose lines the same request has just touched. */
  Counter& stat_dispatched() { return dispatched_; }

  const Probe<StationEvent>& probe() const override { return probe_; }
  int servers() const override { return depth_; }
  Occupancy occupancy() const override;

private:
  void grant(Request* r, bool waited);
  /** sbq_calc_wake_batch() (lib/sbitmap.c): depth / SBQ_WAIT_QUEUES (8), between 1 and SBQ_WAKE_BATCH (8). */
  static int wake_batch_of(int depth) { return std::clamp(depth / 8, 1, 8); }
  Owner& owner_;
  int index_;
  int depth_;
  int wake_batch_;            // tags freed per wake-up of a sleeping submitter
  int waited_since_wake_ = 0; // requests that waited since the last wake-up
  int in_use_            = 0;
  std::vector<int> free_;
  RequestFifo waiters_;
  EventQueue* events_      = nullptr;
  std::uint64_t issued_    = 0;
  std::uint64_t completed_ = 0;
  Counter waits_;
  Counter dispatched_;
  Probe<StationEvent> probe_;
};

} // namespace pvsim
