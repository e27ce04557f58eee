/* pvsim: the Xen grant-table lock of one guest domain, as xen-blkback's grant map and unmap hypercalls take it.
 *
 * A grant blkback does not hold persistently is mapped with GNTTABOP_map_grant_ref and, after its request, unmapped
 * with GNTTABOP_unmap_grant_ref. Linux issues one hypercall for all of a request's grants (gnttab_map_refs(),
 * gnttab_unmap_refs()), but inside Xen the batch is a loop over single ops (xen/common/grant_table.c
 * gnttab_map_grant_ref() calls __gnttab_map_grant_ref() for each, checking hypercall_preempt_check() between them;
 * the same for unmaps), and each op takes and drops the locks itself. So the lock is taken once per op, not per batch,
 * and a kthread between two of its ops lets the others in. What the ops take depends on Xen's version:
 *  - Xen 4.5 and earlier: exclusive spinlocks. __gnttab_map_grant_ref() takes dom0's grant table lock (lgt->lock) to
 *    pop a maptrack handle (get_maptrack_handle()), the guest's (rgt->lock) to pin the active entry, and both
 *    (double_gt_lock()) to fill the maptrack entry; __gnttab_unmap_common() takes lgt->lock, then both around
 *    replace_grant_host_mapping(), and __gnttab_unmap_common_complete() rgt->lock to unpin. Every kthread serving any
 *    ring of the guest goes through the same rgt->lock. Modelled as one lock per guest, one acquisition per grant
 *    holding `hold` (the inside parts of the grant's map and unmap ops together; outside them the op's page-table
 *    update, reference counting and hypercall entry). Xen's spinlocks were then byte (test-and-set) locks, every
 *    waiter spinning on the word: a ticket lock here (sim/spin_lock.hpp), whose handover grows with the spinners the
 *    same way (e10784ac42 "use ticket locks for spin locks", Xen 4.6, replaced the byte locks).
 *  - Xen 4.6: the grant table lock is a rwlock taken for reading by map and unmap (40de9fffb4 "make the grant table
 *    lock a read-write lock"), per-active-entry locks (b4650e9a96) and per-vCPU maptrack free lists (dff515dfea): no
 *    exclusion left, but each read_lock() is a locked compare-and-swap on the lock's one word, which must come to
 *    the core doing it. Modelled as that word: one access per map op and one per unmap op (read_lock(&rgt->lock) in
 *    __gnttab_map_grant_ref() and __gnttab_unmap_common()), each a critical section of no work whose only cost is
 *    the line's transfer when another core touched it last; accesses arriving while the line is on its way queue
 *    behind it, each handover one transfer (a qspinlock's handover in sim/spin_lock.hpp). So the word saturates at
 *    one access per transfer time: eede22972f's "the coherency fabric can only support a specific rate of compare
 *    swap operations for a particular data location".
 *  - Xen 4.7 and later: a per-CPU rwlock (eede22972f "convert grant table rwlock to percpu rwlock"): a reader
 *    touches only its own CPU's line. Nothing shared: no GrantTableLock at all.
 * The owner (xen.blkback) registers the statistics: the lock's acquisitions, waits and lock-word transfers.
 * Leaves out: dom0's own grant table lock (lgt->lock in 4.5, the read lock on dom0's table in 4.6's unmap), shared by
 * the backends of every guest, not only this one's (the lock here is per guest: backends of two guests do not meet);
 * the unmaps' timing (xen.blkback charges them with the map, at dispatch, so the unmap's inside part is held there
 * too); the IOMMU mapcount() scan under double_gt_lock() (only with an IOMMU-mapped dom0); 4.6's per-active-entry
 * locks (a grant reference is in one ring's request at a time: uncontended). */
#pragma once

#include "models/xen/blk/blkif_grants.hpp"
#include "sim/cpu_thread.hpp"
#include "sim/spin_lock.hpp"

#include <string>
#include <vector>

namespace pvsim::xen {

class GrantTableLock {
public:
  /** What a map or unmap op contends on: nothing (Xen 4.7 and later, or switched off), an exclusive spinlock (4.5
   * and earlier), the read lock's word (4.6). */
  enum class Mechanism { none, spinlock, read_lock_word };
  /** The Xen versions told apart: "4.5" (and earlier), "4.6", "4.7" (and later). */
  static const std::vector<std::string>& xen_versions();
  static Mechanism mechanism_of(const std::string& xen, bool on);
  static const char* mechanism_name(Mechanism m); // "none", "spinlock", "read_lock_word"

  /** The lock of guest `guest`, taken from cores whose transfers cost `cost`. */
  GrantTableLock(const std::string& guest, Mechanism m, LineCost cost);
  GrantTableLock(const GrantTableLock&)            = delete;
  GrantTableLock& operator=(const GrantTableLock&) = delete;

  /** The backends whose kthreads take it (names, in component order). */
  void add_backend(const std::string& name) { backends_.push_back(name); }

  /** Posts on `t` the dispatch of a request: `lead_s` of CPU (parsing it, its persistent grants), then the map (and
   * unmap) ops of the `m.mapped` grants it maps, `op_s` of CPU per grant in all, of which `hold_s` holds the spinlock
   * (one acquisition per grant; the read lock's word: one access per op, no hold); the last item runs `target`'s
   * continuation (kind, r). The CPU is the same as one post of lead_s + m.mapped x op_s. */
  void post_dispatch(CpuThread& t, double lead_s, const PersistentGrantTree::MapResult& m, double op_s, double hold_s,
                     EventTarget* target, int kind, Request* r);

  /** Statistics under `prefix` of the owner's set: the lock's (SpinLock::track_stats), Xen's version, the mechanism
   * and the backends sharing it. */
  void track_stats(StatSet& set, const std::string& prefix, const std::string& xen);

private:
  Mechanism mechanism_;
  SpinLock lock_;
  std::vector<std::string> backends_;
};

} // namespace pvsim::xen
