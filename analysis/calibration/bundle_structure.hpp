/* pvsim: what a capture bundle shows of a guest's structure (queues, tags, CPU lists, the vCPU of each queue's
 * interrupts, the XenStore negotiation) checked against what pvsim's models derive from the same settings. */
#pragma once

#include "analysis/calibration/bundle.hpp"

#include <string>
#include <vector>

namespace pvsim::bundle {

/** {"role", "vcpus", "devices", "checks": [{"device", "check", "expected", "observed", "ok"}], "mismatches", "notes"}.
 * Each check compares what pvsim (or the negotiation recorded in XenStore) says with what the guest shows:
 * - Xen vbd with a XenStore dump: multi-queue-num-queues vs the mq directories; ring slots (32 x 2^ring-page-order)
 *   vs every queue's nr_tags; with the lab's module parameters, the queue count, ring order and persistent grants
 *   that pvsim's own blkif handshake negotiates vs XenStore; one event-channel per queue in XenStore.
 * - Every device: pvsim's CPU -> hardware queue map (blk-mq's default, group_cpus_evenly) vs each mq/N/cpu_list;
 *   the guest's per-queue interrupts (blkif / virtioN-req.Q lines of /proc/interrupts): one per queue, and the vCPU
 *   that took them vs the vCPU pvsim binds the queue's event channel (Linux's select_target_cpu) or MSI-X vector
 *   (managed affinity) to.
 * - virtio lab: the queue count and tags pvsim's virtio.blk derives from QEMU's num-queues and queue size.
 * - xen-net: the vif's negotiated multi-queue-num-queues vs the lab's setting, and tx/rx event channels per queue. */
json check_structure(const Bundle& b);

/** Per queue, the vCPU that took the queue's interrupts during the bundle's runs (from the interrupts files), or an
 * empty vector when the bundle cannot tell. `kind`: "xen-blkfront" or "virtio-blk". */
std::vector<int> observed_irq_vcpus(const Bundle& b, const Device& d, std::vector<std::string>* notes = nullptr);

} // namespace pvsim::bundle
