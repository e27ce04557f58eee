/* pvsim: what blk-mq needs of the driver below it (struct blk_mq_ops and the tag set the driver sets up):
 * how many hardware queues it has and how deep each is, and queue_rq() to hand it a request that holds a tag.
 * The driver completes a request with r->end_io(), as blk_mq_complete_request does. */
#pragma once

#include "models/host/kernel_version.hpp"
#include "sim/request.hpp"

#include <optional>
#include <string>

namespace pvsim {

class BlockDriver {
public:
  /** The block layer above, for drivers that stop a hardware queue when they run out of room (virtio-blk's
   * -ENOSPC) and restart it later (blk_mq_start_stopped_hw_queues): with an I/O scheduler, requests wait there. */
  class Upper {
  public:
    virtual ~Upper() = default;
    /** Hardware queue `hctx` was restarted and has room again, on guest vCPU `vcpu` (a kblockd run). */
    virtual void restarted(int hctx, int vcpu) = 0;
  };
  virtual ~BlockDriver() = default;
  void set_upper(Upper* u) { upper_ = u; }
  /** Hardware queue `hctx` is stopped (blk_mq_stop_hw_queue): nothing more goes to queue_rq until it restarts. */
  virtual bool hw_queue_stopped(int /*hctx*/) const { return false; }
  /** Hardware queues (tag_set.nr_hw_queues), known after connect() (and after negotiation for paravirtual ones). */
  virtual int nr_hw_queues() const = 0;
  /** Tags per hardware queue (tag_set.queue_depth). */
  virtual int queue_depth() const = 0;
  /** A request holding tag r->tag on hardware queue r->queue (blk_mq_ops.queue_rq). */
  virtual void queue_rq(Request* r) = 0;
  /** The driver's own blk_mq_ops.map_queues under `kernel`, as a queue map policy name; nullopt when blk-mq falls
   * back to blk_mq_map_queues() (the kernel era's map), as most drivers do. */
  virtual std::optional<std::string> map_queues_policy(const KernelVersion& /*kernel*/) const { return std::nullopt; }

protected:
  Upper* upper_ = nullptr;
};

} // namespace pvsim
