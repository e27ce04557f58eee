/* pvsim: which VMM (and transport) a guest ran under, from what its trace or bundle carries, with the evidence, so
 * that `pvsim calibrate` can build the matching stack and say why (issue 14, point 2).
 *
 * Each fact found adds evidence with a weight (3 strong: the VMM names itself; 2 medium: a value only that VMM's
 * defaults give; 1 weak: consistent with it, also possible elsewhere) for one or more VMMs. The VMM with the highest
 * score is chosen when it leads; a tie or no evidence gives "unknown" with the reason. Evidence for another VMM than
 * the chosen one is listed under `conflicts`.
 *
 * Facts and where they come from (verified in the sources unless marked [M], from memory):
 * - Firecracker: ACPI OEM ID "FIRECK" in every table (src/vmm/src/acpi/mod.rs, OEM_ID / FC_OEM_ID); devices on the
 *   kernel command line as "virtio_mmio.device=4K@0x...:IRQ" for the MMIO transport (builder.rs; QEMU's microvm
 *   machine can do the same [M], so medium); one queue of 256 entries (devices/virtio/queue.rs
 *   FIRECRACKER_MAX_QUEUE_SIZE, block BLOCK_NUM_QUEUES = 1) and only VERSION_1 | EVENT_IDX, FLUSH with cache_type
 *   Writeback, RO (block/virtio/device.rs VirtioBlock::new()): no INDIRECT_DESC, so Linux's virtblk_probe() halves
 *   the ring to nr_tags 128; no SMBIOS/DMI tables [M]; PCI transport only with --enable-pci (v1.13.0 on). A kernel
 *   named "-fc" is a naming habit of Firecracker guest configs, not a rule (medium).
 * - QEMU: SMBIOS manufacturer "QEMU" (hw/i386/fw_cfg.c fw_cfg_build_smbios(), smbios_set_defaults("QEMU", ...));
 *   ACPI OEM ID "BOCHS " (include/hw/acpi/aml-build.h ACPI_BUILD_APPNAME6); virtio-blk offers INDIRECT_DESC,
 *   CONFIG_WCE, WRITE_ZEROES and DISCARD by default, num-queues = vCPUs since QEMU 5.2 and queue-size 256 [M]: with
 *   indirect descriptors nr_tags = 256. TCG (software emulation) exists only in QEMU.
 * - Cloud Hypervisor: SMBIOS "Cloud Hypervisor" / "cloud-hypervisor" (arch/src/x86_64/smbios.rs), ACPI OEM ID
 *   "CLOUDH" (vmm/src/acpi.rs), disks default to 1 queue of 128 entries (vmm/src/vm_config.rs
 *   DEFAULT_DISK_NUM_QUEUES, DEFAULT_DISK_QUEUE_SIZE) with INDIRECT_DESC [M]: nr_tags 128 with indirect.
 * - Xen: a XenStore dump, xvd* disks, the "vbd" driver, event-channel interrupts (chip "xen-dyn", "xen-percpu",
 *   action "blkif"), lscpu "Hypervisor vendor: Xen", DMI "Xen".
 * - Transport: "PCI-MSI"/"PCI-MSIX" interrupts named virtioN-req.Q (vp_find_vqs_msix) or a device path under
 *   pci0000: -> pci; virtio_mmio.device= on the command line, "pci=off", a device path under virtio_mmio, or one
 *   "virtioN" line on a non-MSI chip without any PCI virtio -> mmio; Xen -> xen.
 * - The trace host of ../shared/traces/virtio-vm-1q negotiates SEG_MAX, BLK_SIZE, TOPOLOGY and DISCARD, which no
 *   Firecracker release offers (research notes §0): reported as "Firecracker-like, patched block features". */
#pragma once

#include "analysis/readers/guest_facts.hpp"
#include "sim/json_node.hpp"

#include <optional>
#include <string>
#include <vector>

namespace pvsim::bundle {
struct Bundle;
}

namespace pvsim::calibration {

inline constexpr const char* vmm_names[] = {"firecracker", "qemu", "cloud-hypervisor", "xen"};

struct VmmEvidence {
  std::string fact;                   // "kernel 6.18.44-fc-v669 is named -fc"
  std::vector<std::string> points_to; // VMMs it supports ("firecracker"), or a transport ("transport:pci")
  std::string source;                 // the file (and section) it was read from
  int weight = 1;                     // 1 weak, 2 medium, 3 strong
};

struct VmmGuess {
  std::string vmm = "unknown"; // "firecracker" | "qemu" | "xen" | "cloud-hypervisor" | "unknown"
  std::string transport;       // "pci" | "mmio" | "xen" | ""
  std::string kernel;          // uname -r when known
  std::string variant;         // "patched block features" when the device offers what the VMM never does
  std::vector<VmmEvidence> evidence;
  std::vector<std::string> conflicts;
  std::vector<std::pair<std::string, int>> scores; // per VMM, in vmm_names order
  std::vector<std::string> sources;                // files read
  std::string summary;                             // one sentence
};

/** The guess from a guest description; `xenstore_file` (a `xenstore-ls -f` dump beside it) adds Xen evidence. */
VmmGuess detect_vmm(const readers::GuestFacts& facts, const std::string& xenstore_file = "");
/** The guess from a capture bundle: its manifest (role, kernel, lab variant, QEMU settings, devices, XenStore dump,
 * interrupts) and its guest description (manifest "guest_facts.file", else device.txt or guest-info.txt in it). */
VmmGuess detect_vmm(const bundle::Bundle& b);
/** The guess for a fio trace file, a trace directory or a bundle directory (manifest.json in it): the description
 * beside it (readers::guest_facts_file_for) and a xenstore-ls-f.txt there. No description: "unknown" with the
 * reason (not an error). InputError for a path that does not exist or a malformed description. */
VmmGuess detect_vmm_at(const std::string& path);

json to_json(const VmmGuess& g);
/** Several lines: the guess, the summary, then the evidence and conflicts. */
std::string to_text(const VmmGuess& g);

/** `pvsim detect PATH [--json]`: prints the guess; 0, or InputError for bad input. */
int detect_command(const std::string& path, bool as_json);

} // namespace pvsim::calibration
