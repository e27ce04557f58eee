/* pvsim model "xen.blkback": Linux xen-blkback in dom0 serving one xen.blkfront, one kernel thread per ring.
 *
 * Models, per ring (drivers/block/xen-blkback/blkback.c):
 * - the backend's event channel, bound with late EOI (xenbus.c xen_blkif_map():
 *   bind_interdomain_evtchn_to_irqhandler_lateeoi(), since "xen/blkback: use lateeoi irq binding", XSA-332, Linux
 *   5.10 and the stable kernels it was backported to). The handler (xen_blkif_be_int() -> blkif_notify_work()) only
 *   sets waiting_reqs and wakes the ring's kthread, xen_blkif_schedule() (wakeup_cpu when it was asleep); the port
 * stays masked for EOI_PENDING until the kthread, after a pass that leaves no work (do_block_io_op() returning 0),
 * calls xen_irq_lateeoi(). A notification in between is not raised: it leaves the port pending, and the EOI raises it,
 * so the handler sets waiting_reqs again before the kthread sleeps and it makes one more pass without being woken (a
 *   spurious one when the final check had already taken those requests). Out of pending_reqs, the EOI waits for the
 *   pass after a completion frees one. With late_eoi "off", the handler's EOI is immediate (kernels before the fix).
 * - __do_block_io_op() consuming every request published (at most as many as free pending_reqs,
 *   XEN_BLKIF_REQS_PER_PAGE per ring page) with request_cpu per request, and per grant (each data segment and each
 *   indirect page) xen_blkbk_map(): persistent_segment_cpu when the ring's tree of persistent grants has it, else
 *   map_segment_cpu (grant map and later unmap: hypercalls, TLB flush), the grant joining the tree while it holds fewer
 *   than max_pgrants (module parameter max_persistent_grants, 1056 per ring, or per device for all its rings with
 *   pgrants_pool "device", as in the 2015 series before its v4 patch 10; models/xen/blk/blkif_grants.hpp has the
 *   rules of both ends). Then RING_FINAL_CHECK_FOR_REQUESTS; on each completion make_response() (response_cpu) and
 *   RING_PUSH_RESPONSES_AND_CHECK_NOTIFY, notifying the frontend only when its rsp_event asks for it.
 * The hypervisor's grant table lock (models/xen/blk/grant_table_lock.hpp, xen/common/grant_table.c): each grant
 * mapped (and later unmapped) goes through Xen's __gnttab_map_grant_ref() and __gnttab_unmap_common(), one op at a
 * time inside the one hypercall of a request's batch, each op taking the guest domain's locks by itself. With the
 * `xen` parameter at 4.5 (and earlier) that is an exclusive spinlock shared by every kthread serving any ring of the
 * guest: each grant holds it for gnttab_lock_hold of its map_segment_cpu, one acquisition per grant for its map and
 * its unmap ops together (the unmap is charged with the map, see below). At 4.6, a rwlock whose read_lock() each op
 * does: no exclusion, but one access to its word per map op and per unmap op, the word moving between the kthreads'
 * cores. From 4.7 (the default) a per-CPU rwlock: nothing shared, nothing modelled. The lock is per guest domain: the
 * first xen.blkback in component order whose frontend runs in the guest.vm owns it and reports it under
 * /grant_table_lock (only when there is one); `grant_lock: off` removes it. With persistent grants in steady state no
 * grant is mapped, so nothing takes it.
 * The kthreads run on the dom0 CPUs (a cpu.host), so more rings than dom0 cores share them. dom0's Linux version is
 * the `kernel` parameter (dom0 is a cpu.host, not a guest.vm): late EOI by default from 5.10, the release that has it
 * from its first version; an older dom0 patched with a stable backport of XSA-332 sets late_eoi "on".
 * Leaves out: the backend's own blk-mq layer in dom0 (requests go straight to the device model), discard/flush, the
 * persistent-grant purge (purge_persistent_gnt(): see blkif_grants.hpp), the unmaps' timing (charged with the map, at
 * dispatch, not in xen_blkbk_unmap() at completion), the upcall's own cost in dom0, the lateeoi spurious-event
 * back-off (XEN_EOI_FLAG_SPURIOUS delays only after repeated spurious events), buffer-page pools, per-ring pinning
 * inside the dom0 pool, the TLB flush of the unmaps (gnttab_unmap_grant_ref(): gnttab_flush_tlb() of dom0's dirty
 * CPU mask, an IPI to each of them, once per GNTTAB_UNMAP_BATCH_SIZE = 32 ops: its cost is a flat part of
 * map_segment_cpu, not one that grows with dom0's CPUs), dom0's own grant table lock (shared by the backends of every
 * guest, see grant_table_lock.hpp), and netback's grant copies (GNTTABOP_copy, which takes the same locks: only
 * blkback's maps are modelled). The ring's locks (blk_ring_lock in make_response(), pending_free_lock) are not
 * modelled as locks: here completions run on the ring's kthread, their only taker, so they are never contended (with
 * null_blk's softirq completion on the submitting CPU, the real backend's are rarely). */
#pragma once

#include "models/host/cpu_host.hpp"
#include "models/host/kernel_version.hpp"
#include "models/xen/blk/blkif_grants.hpp"
#include "models/xen/blk/blkif_negotiation.hpp"
#include "models/xen/blk/grant_table_lock.hpp"
#include "sim/component.hpp"
#include "sim/cpu_thread.hpp"
#include "sim/params.hpp"
#include "sim/path_event.hpp"
#include "sim/pinned_array.hpp"
#include "sim/probe.hpp"

#include <memory>

namespace pvsim::xen {

class XenBlkfront;
struct BlkifQueue;

struct XenBlkbackParams {
  std::string cpus;
  std::string target;
  long long max_queues;
  long long max_ring_page_order;
  long long max_indirect_segments;
  bool feature_persistent;
  long long max_pgrants;
  std::string pgrants_pool;
  std::string kernel;
  std::string late_eoi;
  std::string xen;
  std::string grant_lock;
  double gnttab_lock_hold_s;
  double wakeup_cpu_s;
  double request_cpu_s;
  double persistent_segment_cpu_s;
  double map_segment_cpu_s;
  double response_cpu_s;
  double notify_cpu_s;
  double evtchn_latency_s;
  double quantum_s;
};

class XenBlkback : public Component {
public:
  static constexpr const char* type_name = "xen.blkback";
  static constexpr const char* summary   = "Linux xen-blkback: one kthread per ring on dom0's CPUs, feeding a device.";
  using Params                           = XenBlkbackParams;
  static const ParamTable<Params>& param_table();

  XenBlkback(std::string name, const Params& p);
  void connect() override;
  void validate() override;
  void start(Simulation& sim) override;
  void estimate_resources(ResourceEstimate& e) const override;
  bool can_complete() const override { return false; }
  /** Requests reach the backend through the shared ring, not by submit(). */
  void submit(Request* r) override;
  void end_io(Request* r, double enter_s) override;
  void on_event(int kind, Request* r) override;

  /** What this backend advertises in XenStore (its module parameters and dom0's CPUs). */
  BlkbackConfig config() const;
  /** Called by the frontend once the handshake is done: one ring and one kthread per negotiated queue. */
  void attach(XenBlkfront& front);
  /** The frontend pushed requests on queue q and asked for a notification. */
  void notify_from_frontend(unsigned q);
  /** Ring q's persistent grants (what the frontend's gnttab_try_end_foreign_access() finds still mapped). */
  const PersistentGrantTree& persistent_grants(unsigned q) const { return rings_.at(q).pgrants; }
  /** The grant-table lock this backend's map ops take (nullptr: none, as from Xen 4.7 or with grant_lock off). */
  const GrantTableLock* grant_table_lock() const { return gnttab_; }
  const Probe<PathEvent>* path_probe() const override { return &path_; }

private:
  enum Kind { upcall = 0, io_op = 1, dispatch = 2, final_check = 3, respond = 4, kinds = 8 };
  /** struct xen_blkif_ring: its kthread, in the ring's own block (no pointer to chase), and the queue it serves. */
  struct Ring {
    Ring(std::string kthread_name, double quantum_s, BlkifQueue& q, unsigned reqs, unsigned max_pgrants)
        : kthread(std::move(kthread_name), quantum_s), queue(&q), pending_free(reqs), pgrants(max_pgrants)
    {
    }
    CpuThread kthread;
    BlkifQueue* queue;             // the frontend's queue of the same index: its shared ring and event channel
    bool persistent       = false; // feature-persistent negotiated (blkif->vbd.feature_gnt_persistent)
    bool scheduled        = false; // an io_op pass is queued or running on the kthread
    bool waiting_reqs     = false; // a notification came while it was busy
    bool out_of_reqs      = false; // stopped for want of a free pending_req
    unsigned pending_free = 0;     // free pending_reqs
    PersistentGrantTree pgrants;   // persistent_gnts, persistent_gnt_c
  };
  /** Registers every statistic the model reports (per ring: its kthread's utilisation and batches), once attached:
   * the rings come from the handshake. */
  void declare_stats();
  /** xen_blkif_be_int(), run by an upcall: the late-EOI ack, then blkif_notify_work(). */
  void be_int(unsigned q);
  void schedule_io_op(unsigned q);
  void do_block_io_op(unsigned q);
  /** The guest domain the frontend runs in (its guest.vm). */
  const Component* guest() const;
  /** At start: the lock of the guest's grant table, owned by the guest's first xen.blkback in component order. */
  void share_grant_table_lock(Simulation& sim);

  Params p_;
  std::size_t device_pgrants_ = 0; // pgrants_pool "device": the persistent grants of all the rings together
  bool late_eoi_; // late_eoi resolved by dom0's kernel
  CpuHost* host_      = nullptr;
  Component* device_  = nullptr;
  XenBlkfront* front_ = nullptr;
  Simulation* sim_    = nullptr;
  GrantTableLock::Mechanism gnttab_mechanism_;
  std::unique_ptr<GrantTableLock> own_gnttab_; // the guest's lock, when this backend is its first
  GrantTableLock* gnttab_ = nullptr;           // the lock the kthreads take (nullptr: none)
  PinnedArray<Ring> rings_;
  Probe<PathEvent> path_;
  /** A path event of request r on ring q, with the ring's indices (only when someone listens). */
  void step(PathEvent ev, unsigned q, std::uint32_t slot);
  unsigned reqs_per_ring_ = 32;
};

} // namespace pvsim::xen
