/* pvsim model "xen.blkfront": Linux xen-blkfront in a domU, one blk-mq hardware queue per negotiated ring.
 *
 * Models, per queue: the shared ring of 32 x 2^ring_page_order slots and its indices; blkif_queue_rq() on the
 * submitting vCPU (queue_rq_cpu, grant_cpu per grant needing a reference, with persistent grants a 4 KiB copy
 * for writes), then RING_PUSH_REQUESTS_AND_CHECK_NOTIFY, notifying the backend only when its req_event asks for it
 * (the notify hypercall costs notify_cpu; delivery takes evtchn_latency); the event channel bound to one vCPU (by
 * default the domU kernel's rule: models/xen/evtchn_placement.hpp) with
 * late-EOI semantics (notifications during the handler set pending and raise once at EOI: coalescing); and
 * blkif_interrupt() on that vCPU: irq_cpu per upcall, response_cpu per response (plus the copy out of a persistent
 * grant for reads), then RING_FINAL_CHECK_FOR_RESPONSES. The queue count, ring order, persistent grants and indirect
 * segments come from the XenStore handshake with the backend (models/xen/blk/blkif_negotiation.hpp), so nothing is set
 * twice. blk-mq's tag depth is the driver's: BLK_RING_SIZE per queue.
 * Grant references: each request takes its grants from the ring's free list, persistent ones reused last-in first-out,
 * one without a reference claiming a new one (models/xen/blk/blkif_grants.hpp: get_free_grant(), blkif_completion()).
 * The ring lock (rinfo->ring_lock, a spinlock per ring: negotiate_mq(); sim/spin_lock.hpp): blkif_queue_rq() holds
 * it with interrupts off from the ring-full check to flush_requests() and the notify hypercall, which is inside it;
 * blkif_interrupt() holds it over every response it consumes and the final check, and lets it go before the late
 * EOI. So every vCPU that blk-mq maps to a ring and the vCPU taking its interrupt contend on it: a vCPU spinning
 * there does nothing else. Ticket lock up to Linux 4.1, qspinlock from 4.2 (x86's switch to queued spinlocks,
 * "locking/qspinlock, x86: Enable x86-64 to use queued spinlocks"), by the domU's kernel; `ring_lock: off` removes
 * it. The ring's header (req_prod, req_event, rsp_prod, rsp_event share one cache line: struct blkif_sring) moves
 * between the cores that write it (sim/cache_line.hpp): submitting vCPUs, the interrupt vCPU and the backend's
 * kthread. The lock's critical sections write ring_lock_lines lines of ring state, which follow the lock from core
 * to core, and a response's shadow entry (two lines) comes from the vCPU that submitted it to the one taking the
 * interrupt.
 * driver "legacy": xen-blkfront before blk-mq (Linux up to 4.2: blk_init_queue(do_blkif_request, &info->io_lock), read
 * in the 3.x driver), still the driver of 3.10-based guests. One ring, and one lock, io_lock, which is also the
 * request queue's lock, so it covers more than the ring: the block layer's request allocation and elevator insert
 * on the submitting vCPU (elevator_cpu), the request_fn do_blkif_request() filling the ring, flush_requests() and the
 * notify, and in blkif_interrupt() each response's blkif_completion() and __blk_end_request_all() (end_request_cpu:
 * the bio and the direct I/O's completion), then kick_pending_request_queues(), which runs do_blkif_request() again
 * on the interrupt's vCPU for the requests that found the ring full. The queue holds nr_requests requests
 * (BLKDEV_MAX_RQ, 128), blk_mq standing in for the request allocation: the requests beyond the ring's slots wait in
 * the queue, under the lock, for the interrupt to dispatch them.
 * Leaves out: request splitting (blk-mq's limits make requests fit), flush/discard, grant exhaustion and
 * gnttab_free callbacks, suspend/resume, the legacy driver's elevator (noop: requests in arrival order) and merging. */
#pragma once

#include "models/host/guest_vm.hpp"
#include "models/linux/block_driver.hpp"
#include "models/xen/blk/blkif_negotiation.hpp"
#include "models/xen/blk/blkif_queue.hpp"
#include "sim/component.hpp"
#include "sim/params.hpp"
#include "sim/path_event.hpp"
#include "sim/pinned_array.hpp"
#include "sim/probe.hpp"

#include <memory>

namespace pvsim::xen {

class XenBlkback;

struct XenBlkfrontParams {
  std::string vm;
  std::string backend;
  long long max_queues;
  long long max_ring_page_order;
  long long max_indirect_segments;
  bool feature_persistent;
  std::string irq_affinity;
  std::string ring_lock;
  long long ring_lock_lines;
  std::string driver;
  long long nr_requests;
  double elevator_cpu_s;
  double end_request_cpu_s;
  long long preceding_channels;
  std::vector<long long> irq_vcpus;
  double queue_rq_cpu_s;
  double grant_cpu_s;
  double copy_cpu_s;
  double notify_cpu_s;
  double irq_cpu_s;
  double response_cpu_s;
  double evtchn_latency_s;
  double xenstore_step_s;
};

class XenBlkfront : public Component, public BlockDriver {
public:
  static constexpr const char* type_name = "xen.blkfront";
  static constexpr const char* summary   = "Linux xen-blkfront: per-queue shared rings and event channels in a domU.";
  using Params                           = XenBlkfrontParams;
  static const ParamTable<Params>& param_table();

  XenBlkfront(std::string name, const Params& p);
  void connect() override;
  void start(Simulation& sim) override;
  std::vector<QueueView> queues() const override;

  // BlockDriver
  int nr_hw_queues() const override { return static_cast<int>(queues_.size()); }
  int queue_depth() const override { return legacy_ ? static_cast<int>(p_.nr_requests) : static_cast<int>(depth_); }
  void queue_rq(Request* r) override;

  void on_event(int kind, Request* r) override;
  /** The backend published responses on queue q and asked for a notification (called by the backend). */
  void notify_from_backend(unsigned q);

  const BlkifNegotiation& negotiation() const { return negotiation_; }
  BlkifQueue& queue(unsigned q) { return queues_.at(q); }
  /** Queue q's ring_lock (nullptr with ring_lock off). */
  SpinLock* ring_lock(unsigned q) { return ring_locks_.empty() ? nullptr : &ring_locks_.at(q); }
  unsigned segments_of(const Request* r) const;
  bool persistent() const { return negotiation_.persistent_grants; }
  const XenStore& xenstore() const { return store_; }
  const std::vector<std::pair<double, std::string>>& transitions() const { return transitions_; }
  const Probe<PathEvent>* path_probe() const override { return &path_; }
  /** Ring q's name ("xvda.ring2"), for the path events of both ends. */
  const std::string& ring_name(unsigned q) const { return ring_names_.at(q); }

private:
  /** Registers every statistic the model reports (per ring: occupancy, notifications, upcalls, batches). */
  void declare_stats();
  enum Kind { pushed = 0, upcall = 1, irq = 2, completed = 3, irq_tail = 4, queued = 5, kinds = 8 };
  void handle_irq(unsigned q);
  /** blkif_queue_request(): r (its tag its ring slot's id) takes its grants and fills its slot on `v`, under the ring
   * lock, next in line. */
  void queue_request(Request* r, CpuThread& v);
  /** Legacy do_blkif_request() on `v`, holding io_lock: the waiting requests into the ring while slots are free. */
  void legacy_request_fn(CpuThread& v);

  Params p_;
  GuestVm* vm_      = nullptr;
  XenBlkback* back_ = nullptr;
  Simulation* sim_  = nullptr;
  XenStore store_;
  BlkifNegotiation negotiation_;
  std::vector<std::pair<double, std::string>> transitions_;
  unsigned depth_ = 32;
  std::string irq_policy_;
  static const std::vector<std::string>& irq_policies();
  /** irq_affinity "follow-queue": rebinds each ring's channel to the first vCPU blk-mq maps to its queue. */
  void follow_queues(Simulation& sim); // irq_affinity after resolving "default" by the kernel
  PinnedArray<BlkifQueue> queues_;
  std::string ring_lock_kind_;
  PinnedArray<SpinLock> ring_locks_; // per queue, empty with ring_lock off
  LineCost line_cost_;
  /** The vCPU that submitted r, and the one queue q's event channel upcalls. */
  CpuThread& submitter(const Request* r);
  CpuThread& irq_vcpu(unsigned q);
  // driver "legacy": the request queue in front of ring 0, the slots' free ids and the blk_mq tag each id stands for
  bool legacy_ = false;
  RequestFifo legacy_queue_;
  std::vector<int> free_ids_;
  std::vector<int> legacy_tag_;
  Counter legacy_waited_; // requests that found the ring full and waited in the queue
  std::vector<std::string> ring_names_;
  Probe<PathEvent> path_;
};

} // namespace pvsim::xen
