/* pvsim: requests per interrupt, measured and simulated: how the device and the driver take turns, which IOPS alone
 * do not show.
 *
 * A bundle written by capture.sh keeps /proc/interrupts before and after each run (interrupts/<run>.before.txt and
 * .after.txt beside fio/<run>.json, bundle.hpp). The virtio-blk queues' interrupts between the two
 * (readers::queue_irqs: the virtio<N>-req.<q> vectors) against the requests the run
 * completed meanwhile give the requests per interrupt: 1 at iodepth 1; the whole batch in flight when the device
 * returns a batch at once and the guest resubmits it before the device looks again (Firecracker >= 1.13's pass
 * ping-pong, firecracker_vmm.hpp); fewer when the device serves requests as they come. The requests are IOPS x
 * (runtime + ramp_time): the snapshots frame fio's whole run, its ramp included (fio's start and the file's layout
 * add a few interrupts: at iodepth 1 the real bundles give 0.999-1.0). The simulated figure is fio's completed
 * requests over the interrupts of every virtqueue of the run's results (virtio.blk's report), in the same window.
 * Leaves out: mixed read/write runs (one figure for both directions), runs without both snapshots, xen-blkfront's
 * rings (their simulated report counts responses, not virtqueue interrupts). */
#pragma once

#include "analysis/calibration/run_facts.hpp"
#include "sim/json_node.hpp"

#include <optional>
#include <string>

namespace pvsim::calibration {

struct MeasuredInterrupts {
  double interrupts = 0; // the device's queue interrupts between the two snapshots
  double requests   = 0; // IOPS x (runtime + ramp_time)
  double per_interrupt() const { return interrupts > 0 ? requests / interrupts : 0; }
};

/** The run's measured interrupts, when its interrupts files lie beside its fio result (nullopt otherwise, or for a
 * mixed run); InputError when a file is there but is not /proc/interrupts. */
std::optional<MeasuredInterrupts> measured_interrupts(const RunFacts& f);

/** fio's completed requests per virtqueue interrupt in a results.json of pvsim run (nullopt without virtqueues or
 * interrupts). */
std::optional<double> simulated_requests_per_interrupt(const json& results);

} // namespace pvsim::calibration
