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
 * The I/O scheduler (`scheduler`, none unless set; block/elevator.c elevator_get_default(): mq-deadline for a device
 * with one hardware queue, none with several, since Linux 4.11; "kernel" follows that rule with the guest's kernel):
 * with
 * mq-deadline (models/linux/mq_deadline.hpp) a request first takes one of the hardware queue's nr_requests scheduler
 * tags (blk_mq_init_sched(): 2 x min(queue depth, BLKDEV_DEFAULT_RQ 128) since 4.19, the tags a submitter sleeps on),
 * and the submitting vCPU inserts it under the scheduler's one lock (dd->lock, a spinlock shared by every vCPU and
 * hardware queue: dd_insert_requests(), after the bio-merge lookup of blk_mq_sched_bio_merge(); sim/spin_lock.hpp):
 * dd_insert_cpu plus, for each of the two searches of the sort tree, one cache line per node visited, moved from the
 * vCPU that touched the tree last (cpu.host's line costs; nothing when it is the same vCPU). Then the hardware queue
 * runs (blk_mq_run_hw_queue -> __blk_mq_do_dispatch_sched) on that vCPU: while the driver has a tag for the next
 * request (a driver tag: the driver's queue depth) and has not stopped the queue, the next request in deadline order
 * leaves the scheduler (dd_dispatch_cpu under dd->lock, two node lines) and goes to queue_rq on the running vCPU. A
 * request the driver cannot take waits on the hardware queue's dispatch list (hctx->dispatch) and goes first next
 * time. The queue runs again when a completion frees a driver tag (blk_mq_sched_restart(), on the completing vCPU)
 * and when the driver restarts a stopped queue (its kblockd run, BlockDriver::restarted()).
 * Leaves out: the elevator's merging (mq_deadline.hpp), one-request dispatch rounds while hctx->dispatch_busy, the
 * async kblockd hop of blk_mq_sched_restart() (the completing vCPU runs the queue), plugging, requeues, polling
 * queues, the delay of wake batches (a waiting request gets the first freed tag here; only the CPU of sleeping
 * follows wake_batch), which sleeper a batch wakes (the cost goes to the vCPU of the request that completes the
 * batch), the tag words' cache lines, and the software-queue and dispatch locks of "none": ctx->lock (per CPU, taken
 * by the dispatching CPU in flush_busy_ctxs() of 4.x kernels) and hctx->lock (only around the hctx->dispatch list of
 * requests a driver sent back busy), held for list splices of tens of nanoseconds; the driver's own lock
 * (xen-blkfront's ring_lock) is where a hardware queue's submitters meet. */
#pragma once

#include "models/host/guest_vm.hpp"
#include "models/linux/blk_mq_map.hpp"
#include "models/linux/block_driver.hpp"
#include "models/linux/mq_deadline.hpp"
#include "models/linux/tag_set.hpp"
#include "sim/component.hpp"
#include "sim/params.hpp"
#include "sim/pinned_array.hpp"
#include "sim/spin_lock.hpp"

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
  std::string scheduler;
  long long nr_requests;
  double dd_insert_cpu_s;
  double dd_dispatch_cpu_s;
  std::string dd_lock;
  long long dd_lock_lines;
  long long fifo_batch;
  double read_expire_s;
  double write_expire_s;
  long long writes_starved;
};

class BlkMq : public Component, public TagSet::Owner, public BlockDriver::Upper {
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
  void on_event(int kind, Request* r) override;
  std::vector<QueueView> queues() const override;
  /** The driver restarted hardware queue `hctx` on guest vCPU `vcpu` (its kblockd run): dispatch from the scheduler. */
  void restarted(int hctx, int vcpu) override;
  /** The scheduler in force after "kernel" is resolved: "none" or "mq-deadline". */
  const std::string& scheduler() const { return scheduler_; }

  const std::vector<int>& cpu_to_hctx() const { return map_; }
  /** The driver below (its hardware queues). */
  const BlockDriver* driver() const { return driver_; }

private:
  /** Registers the statistics, once the tag sets exist (start). */
  void declare_stats();
  enum Kind { inserted = 0, dispatched = 1, ran = 2, kinds = 4 }; // per vCPU: vcpu * kinds + kind
  /** The guest vCPU index of the thread running now, or the vCPU that submitted r. */
  int running_vcpu(const Request* r) const;
  /** __blk_mq_sched_dispatch_requests on vCPU `vcpu`: sends the next request to the driver, if one can go. */
  void run_queue(int vcpu);
  /** Posts work of kind k on vCPU v, after the code path running there if it is that vCPU's, under `lock`. */
  void post_on(int v, SpinLock* lock, double cost_s, Kind k, Request* r);
  /** One cache line of the sort tree, from the vCPU that touched it last to `vcpu` (and now owned by it). */
  double tree_line(int vcpu);

  Params p_;
  Simulation* sim_     = nullptr;
  GuestVm* vm_         = nullptr;
  BlockDriver* driver_ = nullptr;
  std::vector<int> map_;
  PinnedArray<TagSet> hctx_;
  Counter tag_wakeups_; // submitters woken after sleeping for a tag
  // mq-deadline (scheduler_ == "mq-deadline"): the scheduler's queues and lock, driver tags per hardware queue.
  std::string scheduler_;
  std::unique_ptr<MqDeadline> dd_;
  std::unique_ptr<SpinLock> dd_lock_;
  LineCost line_cost_;
  int tree_owner_ = -1;                         // the vCPU that touched the sort tree last
  std::vector<std::vector<int>> driver_free_;   // per hardware queue: free driver tags
  std::vector<std::vector<int>> driver_tag_of_; // per hardware queue, per scheduler tag: its driver tag or -1
  std::vector<RequestFifo> hctx_dispatch_;      // hctx->dispatch: requests the driver could not take yet
  std::vector<char> running_;                   // per vCPU: a dispatch of its is under way
  Counter dd_inserted_, dd_dispatched_;
  Peak dd_queued_;
  Sum dd_wait_s_;
};

} // namespace pvsim
