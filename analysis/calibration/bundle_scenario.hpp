/* pvsim: the scenario of one run of a capture or lab bundle (bundle.hpp), for `pvsim validate --bundle`.
 *
 * The calibrated costs come from a device.json (calibration.hpp: fio's CPU per I/O split into submit, complete and
 * interrupt costs, the device's service distribution and channels); the machine comes from the bundle:
 * - a virtio-blk guest: the calibrated virtio stack with the bundle's vCPUs, hardware queues and tags; with a lab
 *   manifest, QEMU's AIO engine, queue size (indirect descriptors: tags = queue size), and the host's physical cores
 *   shared by the vCPUs and QEMU's event loop (an emulated host runs every CPU of the guest on those cores).
 * - a Xen domU: job.fio -> blk_mq -> xen.blkfront -> xen.blkback -> the calibrated device, with the negotiated
 *   queue count and ring order (from the guest's mq layout), the backend's settings, dom0's ring kthreads on the
 *   same physical cores as the domU's vCPUs, the calibrated notification cost as the notify hypercall and the
 *   interrupt cost as blkif_interrupt's.
 * In both, each queue's interrupt goes to the vCPU the guest's /proc/interrupts shows (irq_vcpus) when the bundle
 * has them. What this leaves out is said in the notes. */
#pragma once

#include "analysis/calibration/bundle.hpp"
#include "analysis/calibration/calibration.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace pvsim::bundle {

/** True when the bundle's fio device is a Xen vbd (the Xen stack is simulated). */
/** The recorded guest's kernel as guest.vm's "kernel" ("6.1.0-56-amd64" -> "6.1"); nullopt when the bundle does not
 * say or pvsim does not support that version. */
std::optional<std::string> guest_kernel_of(const Bundle& b);

bool is_xen_bundle(const Bundle& b);

/** The complete scenario document of one run; `guest` is guest_for_run()'s object. Notes on what was assumed are
 * appended to `notes` (once per bundle: pass the same vector for every run, duplicates are skipped). */
json scenario_for_bundle_run(const json& device, const Bundle& b, const Run& run, const json& guest,
                             const calibration::RunFacts& facts, double duration_s, double warmup_s, std::uint64_t seed,
                             std::vector<std::string>& notes);

} // namespace pvsim::bundle
