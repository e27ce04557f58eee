/* pvsim model "blk_mq": Linux's multi-queue block layer between a guest's jobs and its block driver.
 * Each vCPU's software context (blk_mq_ctx) is mapped onto a hardware queue (blk_mq_hw_ctx) by a policy chosen in
 * the scenario (the kernel's default spread, legacy, per-core, per-node, round-robin, single, explicit table). Each
 * hardware queue has a tag set as deep as the driver's queue depth (ring slots, virtqueue size, device tags): a
 * request that finds no free tag waits for one, and the waits are counted. A request keeps its tag until the driver
 * completes it. The number of hardware queues is the driver's (after negotiation, for paravirtual drivers).
 * A submitter that finds no tag sleeps (blk_mq_get_tag(): sbitmap_prepare_to_wait, io_schedule) and completions
 * wake it once wake_batch tags are freed (lib/sbitmap.c: sbitmap_queue_wake_up; sbq_calc_wake_batch(): depth / 8
 * between 1 and 8, so 4 for a Xen ring's 32 tags, 8 from 64 tags); it then takes those tags without sleeping again.
 * So every wake_batch requests that waited cost one sleep on the sleeper's vCPU (tag_sleep_cpu: switched out and back
 * in, before it goes on into the driver) and one wake-up on the vCPU whose completion freed the last tag
 * (tag_wake_cpu: try_to_wake_up and the reschedule IPI, an event-channel hypercall in a Xen guest), when it is
 * another vCPU. The more jobs share a hardware queue's tags past exhaustion, the more of that CPU each request costs.
 * Leaves out: I/O schedulers (the scheduler is "none"), merging and plugging, requeues, polling queues, the delay of
 * wake batches (a waiting request gets the first freed tag here; only the CPU of sleeping follows wake_batch), which
 * sleeper a batch wakes (the cost goes to the vCPU of the request that completes the batch), the tag words' cache
 * lines, and the software-queue and dispatch locks: ctx->lock (per CPU, taken by the dispatching CPU in
 * flush_busy_ctxs() of 4.x kernels) and hctx->lock (only around the hctx->dispatch list of requests a driver sent
 * back busy), held for list splices of tens of nanoseconds; the driver's own lock (xen-blkfront's ring_lock) is where
 * a hardware queue's submitters meet. */
#pragma once

#include "models/host/guest_vm.hpp"
#include "models/linux/blk_mq_map.hpp"
#include "models/linux/block_driver.hpp"
#include "models/linux/tag_set.hpp"
#include "sim/component.hpp"
#include "sim/params.hpp"

#include <memory>

namespace pvsim {

struct BlkMqParams {
  std::string vm;
  std::string target;
  std::string map;
  std::vector<long long> map_table;
  bool map_clusters;
  long long numa_nodes;
  long long threads_per_core;
  long long queue_depth;
  double tag_sleep_cpu_s;
  double tag_wake_cpu_s;
};

class BlkMq : public Component, public TagSet::Owner {
public:
  static constexpr const char* type_name = "blk_mq";
  static constexpr const char* summary   = "Linux blk-mq: per-CPU contexts mapped onto hardware queues with tag sets.";
  using Params                           = BlkMqParams;
  static const ParamTable<Params>& param_table();

  BlkMq(std::string name, const Params& p);
  void connect() override;
  void validate() override;
  void start(Simulation& sim) override;
  void submit(Request* r) override;
  void end_io(Request* r, double enter_s) override;
  void tag_granted(Request* r, int hctx, bool woken) override;
  std::vector<QueueView> queues() const override;

  const std::vector<int>& cpu_to_hctx() const { return map_; }
  /** The driver below (its hardware queues). */
  const BlockDriver* driver() const { return driver_; }

private:
  /** Registers the statistics, once the tag sets exist (start). */
  void declare_stats();

  Params p_;
  GuestVm* vm_         = nullptr;
  BlockDriver* driver_ = nullptr;
  std::vector<int> map_;
  std::vector<std::unique_ptr<TagSet>> hctx_;
  Counter tag_wakeups_;             // submitters woken after sleeping for a tag
  std::vector<Counter> dispatched_; // per hardware queue; sized once in start(), before its counters are registered
};

} // namespace pvsim
