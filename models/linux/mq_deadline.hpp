/* pvsim: the queues of mq-deadline, the I/O scheduler Linux puts in front of single-queue devices (block/elevator.c
 * elevator_get_default(): mq-deadline when the device has one hardware queue, since Linux 4.11; "none" with several).
 * This class is the scheduler's data (block/mq-deadline.c, struct deadline_data); blk_mq (models/linux/blk_mq.hpp)
 * runs it on the vCPUs, under its lock, with its tags.
 *
 * Models, per direction (reads, writes), as dd_insert_request() and __dd_dispatch_request() keep them:
 * - the sort list (an rb-tree by sector): requests dispatched in ascending sector order from the position where the
 *   last one of that direction ended (deadline_next_request / deadline_from_pos: the first request at or after
 *   latest_pos), a one-way sweep;
 * - the FIFO list with each request's deadline (insertion time + read_expire 500 ms or write_expire 5 s): when the
 *   oldest has expired, or no request lies above the position, dispatch starts again from the oldest
 *   (deadline_check_fifo, deadline_fifo_request);
 * - batches: up to fifo_batch (16) requests in one direction and sector order before the direction and the FIFO are
 *   looked at again (dd->batching);
 * - reads before writes, but writes get a batch once reads have been chosen over waiting writes writes_starved (2)
 *   times (dd->starved).
 * Leaves out: merging (blk_mq_sched_try_merge, elv_rqhash: random I/O does not merge; sequential I/O would), the I/O
 * priority classes (every request best-effort: one per_prio), zoned writes, async_depth (the limit on async requests'
 * share of the scheduler tags), the prefer-requeued-requests list. The tree is kept as a sorted array: the order and
 * the number of nodes a search visits are the rb-tree's, its cost is blk_mq's. */
#pragma once

#include "sim/request.hpp"
#include "sim/stats.hpp"

#include <cstdint>
#include <deque>
#include <vector>

namespace pvsim {

struct MqDeadlineTunables {
  int fifo_batch        = 16;  // /sys/block/*/queue/iosched/fifo_batch
  double read_expire_s  = 0.5; // read_expire (ms in sysfs)
  double write_expire_s = 5.0; // write_expire
  int writes_starved    = 2;   // writes_starved
};

class MqDeadline {
public:
  /** `hctxs` hardware queues of `nr_requests` scheduler tags each (r->queue, r->tag name a request while queued). */
  MqDeadline(const MqDeadlineTunables& t, int hctxs, int nr_requests);

  /** dd_insert_request(): r (holding scheduler tag r->tag of hardware queue r->queue) joins the sort and FIFO lists
   * of its direction. */
  void insert(Request* r, double now_s);
  /** __dd_dispatch_request(): removes and returns the next request, or nullptr when none is queued. */
  Request* dispatch(double now_s);

  std::size_t queued() const { return dir_[0].sorted.size() + dir_[1].sorted.size(); }
  /** Nodes a search of the sort tree of r's direction visits (an rb-tree of n nodes: about log2(n + 1)). */
  int search_depth(Op op) const;
  /** Dispatches that began again from the FIFO's oldest request because its deadline had passed (a statistic its
   * owner registers, sim/stats.hpp). */
  std::uint64_t expired() const { return expired_.get(); }
  Counter& stat_expired() { return expired_; }

private:
  struct FifoEntry {
    Request* r;
    std::uint64_t id;
    double deadline_s;
  };
  struct Direction {
    std::vector<Request*> sorted; // by (offset, id): the sort list
    std::deque<FifoEntry> fifo;   // insertion order; entries of dispatched requests are skipped lazily
    std::uint64_t latest_pos = 0; // where the last dispatched request of this direction ended (bytes)
  };
  /** The FIFO's oldest request still queued (dropping entries of requests already dispatched). */
  const FifoEntry* oldest(Direction& d);
  /** The first queued request at or after `pos` in sort order. */
  Request* from_pos(const Direction& d, std::uint64_t pos) const;
  void remove(Direction& d, Request* r);
  bool is_queued(const Request* r, std::uint64_t id) const;

  MqDeadlineTunables t_;
  int nr_requests_;
  Direction dir_[2];                 // DD_READ, DD_WRITE
  std::vector<std::uint64_t> in_dd_; // per (hctx, scheduler tag): the id of the request queued there, or 0
  int last_dir_ = 1;                 // dd->last_dir: DD_WRITE at dd_init_sched()
  int batching_ = 0;                 // dd->batching
  int starved_  = 0;                 // dd->starved
  Counter expired_;
};

} // namespace pvsim
