/* pvsim: QEMU's pre-copy live migration of RAM, iteration by iteration (issue 19, part 2), followed version: QEMU 8.2
 * to 9.x (migration/ split into options.c; unverified for later versions).
 *
 * - migration/options.c: downtime-limit defaults to 300 ms (DEFAULT_MIGRATE_SET_DOWNTIME); max-bandwidth defaults to
 *   MAX_THROTTLE = 128 << 20 bytes/s (128 MiB/s; it was 32 MiB/s before QEMU 5.2 -- the version of the change is
 *   from memory, not verified in the sources here).
 * - migration/migration.c migration_iteration_run(): each pass asks the RAM code for the pending (dirty) size; when it
 *   is below s->threshold_size the migration completes (migration_completion), else another iteration is sent.
 *   migration_update_counters() sets threshold_size = bandwidth x downtime-limit, with the bandwidth measured over the
 *   last period (pvsim: the configured bandwidth, the link assumed saturated).
 * - migration/ram.c migration_bitmap_sync(), once per iteration: the pages the guest dirtied while the previous
 *   iteration was sent become the next iteration's pending set.
 * Guest dirtying: a background rate over a writable working set (bounded: re-dirtying a dirty page adds nothing), plus
 * the disk reads' DMA, which writes guest memory (a virtio-blk read's data lands in guest buffers); fio reuses its
 * buffers (iodepth x block size per job), so that dirty set is bounded by the buffers' size. Writes to the disk only
 * read guest memory and dirty nothing.
 * Pre-copy converges when the dirty rate is below the bandwidth (pending shrinks by dirty/bandwidth per iteration) or
 * when the bounded dirty set fits the threshold; otherwise it stops after max_iterations (pvsim's bound: QEMU itself
 * keeps iterating unless auto-converge or a manual switchover intervenes) and switches over anyway.
 * Leaves out: zero-page detection, compression, multifd, XBZRLE, postcopy, auto-converge's CPU throttling. */
#pragma once

#include <cstdint>
#include <vector>

namespace pvsim {

struct PrecopyParams {
  double ram_bytes;         // guest RAM sent by the first iteration
  double bandwidth;         // bytes/s (MAX_THROTTLE)
  double downtime_limit_s;  // DEFAULT_MIGRATE_SET_DOWNTIME
  double dirty_rate;        // bytes/s of background dirtying
  double working_set_bytes; // writable working set the background dirtying is confined to
  double io_read_rate;      // bytes/s the guest reads from its disks (DMA into guest RAM)
  double io_buffer_bytes;   // the guest's I/O buffers (fio: numjobs x iodepth x bs)
  int max_iterations;
  double device_state_bytes; // device state sent during the downtime
  /** The defaults (QEMU's where it has one: MAX_THROTTLE, DEFAULT_MIGRATE_SET_DOWNTIME), here once. */
  static PrecopyParams defaults();
};

struct PrecopyResult {
  std::vector<double> sent_bytes; // per iteration
  double duration_s    = 0;       // from the start of the migration to the stop of the vCPUs
  double pending_bytes = 0;       // RAM still dirty at the stop
  bool converged       = false;   // pending fell below the threshold before max_iterations
  /** QEMU's estimate of the downtime: (pending + device state) / bandwidth; it does not include the disks' drain. */
  double estimated_downtime_s = 0;
};

/** The bytes the guest dirties while one iteration of `seconds` is sent, bounded by the working set and buffers. */
double dirtied_bytes(const PrecopyParams& p, double seconds);
/** Runs the iterations (closed form per iteration, no events). */
PrecopyResult run_precopy(const PrecopyParams& p);

} // namespace pvsim
