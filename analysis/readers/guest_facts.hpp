/* pvsim: what a guest description says about the machine a trace was measured on (its kernel, vCPUs, block devices,
 * virtio features, interrupts, firmware), for telling which VMM ran the guest (analysis/calibration/vmm_detect.hpp).
 *
 * Two text formats are read, leniently (a missing part is left unset; an unknown part is ignored):
 * - "== <section>" blocks (../shared/traces/virtio-vm-1q/device.txt, and the device.txt of capture bundles):
 *   uname (uname -a), queue attrs ("name: value", the files of /sys/block/<dev>/queue), mq ("/sys/block/<dev>/mq/<i>
 *   cpu_list=0, 1 nr_tags=128 ..."), virtio features (the /sys/.../features string, bit i = character i, and
 *   optionally "set bits: [..]", checked against it), interrupts (/proc/interrupts), lscpu ("CPU(s):", "Hypervisor
 *   vendor:"), nproc. Written by analysis/capture/capture.sh as well: dmi ("sys_vendor: ...", "product_name: ...",
 *   or "none"), cmdline (/proc/cmdline), acpi tables ("<name>: oem_id=<id> oem_table_id=<id>", or "none"), block
 *   devices ("<dev> driver=<name> path=<sysfs path of the device>"), virtio devices ("virtio<N> device=0x0002
 *   driver=virtio_blk path=<sysfs path> features=<bits>"). A section name may end with a device name
 *   ("== virtio features vda"); without one it is about the main block device (the one the mq lines name).
 * - "key=value" lines (the labs' guest-info.txt: ../shared/traces/qemu-lab-tcg/ and xen-lab-tcg/): tag, kernel,
 *   nproc, nr_hw_queues, scheduler (+ nr_requests, size_sectors), the mq lines, then /proc/interrupts from its
 *   "CPU0 CPU1 ..." header to the end.
 *
 * Virtio feature bits named (include/uapi/linux/virtio_blk.h, virtio_ring.h, virtio_config.h; verified on QEMU's
 * copy include/standard-headers/linux/virtio_blk.h and on Linux patches' context lines): SIZE_MAX 1, SEG_MAX 2,
 * GEOMETRY 4, RO 5, BLK_SIZE 6, FLUSH 9 (legacy section, alias WCE), TOPOLOGY 10, CONFIG_WCE 11 (legacy section),
 * MQ 12, DISCARD 13, WRITE_ZEROES 14, SECURE_ERASE 16, ZONED 17 (blk); INDIRECT_DESC 28, EVENT_IDX 29 (ring);
 * VERSION_1 32, ACCESS_PLATFORM 33, RING_PACKED 34, IN_ORDER 35, ORDER_PLATFORM 36, SR_IOV 37,
 * NOTIFICATION_DATA 38 (config). The bits are the negotiated ones (the driver's /sys/.../features after probing).
 *
 * Errors: a malformed number or bit string is an InputError naming the file and the line. Left out: lsblk, findmnt,
 * mem and the other sections (ignored, listed in `ignored_sections`). */
#pragma once

#include "analysis/readers/proc_interrupts.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace pvsim::readers {

/** Virtio feature bits (numbers of include/uapi/linux/virtio_*.h). */
namespace virtio_bit {
inline constexpr int size_max = 1, seg_max = 2, geometry = 4, ro = 5, blk_size = 6, flush = 9, topology = 10,
                     config_wce = 11, mq = 12, discard = 13, write_zeroes = 14, secure_erase = 16, zoned = 17,
                     indirect_desc = 28, event_idx = 29, version_1 = 32, access_platform = 33, ring_packed = 34,
                     in_order = 35, order_platform = 36, sr_iov = 37, notification_data = 38;
/** "SEG_MAX", "INDIRECT_DESC"...; "bit <n>" for a bit without a name here. */
std::string name(int bit);
} // namespace virtio_bit

struct VirtioFeatures {
  std::string bits;     // the features string: character i is '1' when bit i is negotiated
  std::vector<int> set; // the set bits, ascending
  bool has(int bit) const;
  /** The names of the set bits ("SEG_MAX", ...). */
  std::vector<std::string> names() const;
};

struct GuestQueue {
  int index = 0;
  std::string cpu_list; // as written: "0, 1"
  std::vector<int> cpus;
  int nr_tags = 0;
  std::optional<int> nr_reserved_tags;
};

struct GuestBlockDevice {
  std::string name;             // "vda", "xvda"; empty when the description never names it
  std::optional<int> hw_queues; // nr_hw_queues= (guest-info) or the number of mq lines
  std::vector<GuestQueue> queues;
  std::string scheduler;          // the active one ("mq-deadline", "none")
  std::string schedulers;         // as written: "none [mq-deadline] kyber bfq"
  std::optional<int> nr_requests; // queue/nr_requests
  std::optional<int> max_segments;
  std::optional<long long> size_sectors;
  std::string write_cache;                  // "write back", "write through"
  std::map<std::string, std::string> queue; // every "queue attrs" line, as written (name -> value)
  std::optional<VirtioFeatures> features;   // when the features string was captured
  std::string driver;                       // "virtio_blk", "vbd" (xen-blkfront) when captured
  std::string device_path;                  // sysfs path of the device (shows the bus: pci0000:00, virtio_mmio)
  bool virtio() const;                      // vd* names, a virtio driver or a features string
};

struct AcpiTable {
  std::string name;   // "DSDT", "APIC", "FACP"
  std::string oem_id; // "FIRECK", "BOCHS", "CLOUDH"
  std::string oem_table_id;
};

struct VirtioDevice {
  std::string name;   // "virtio1"
  std::string device; // the virtio device id as sysfs prints it: "0x0002" (block)
  std::string driver; // "virtio_blk"
  std::string path;   // sysfs path (bus: pci or virtio_mmio)
  std::optional<VirtioFeatures> features;
};

struct GuestFacts {
  std::string file;
  std::string uname;  // the uname line as written
  std::string kernel; // uname -r: "6.18.44-fc-v669", "6.1.0-56-amd64"
  std::optional<int> vcpus;
  std::string hypervisor_vendor; // lscpu "Hypervisor vendor": "KVM", "Xen"
  std::vector<GuestBlockDevice> devices;
  std::optional<ProcInterrupts> interrupts;
  bool dmi_captured = false; // a "dmi" section was there (so an empty sys_vendor means: no DMI tables)
  std::string dmi_sys_vendor, dmi_product_name;
  std::optional<std::string> cmdline;
  bool acpi_captured = false;
  std::vector<AcpiTable> acpi_tables;
  std::vector<VirtioDevice> virtio_devices;
  std::vector<std::string> sections;         // the sections found, in order ("" for key=value lines)
  std::vector<std::string> ignored_sections; // those not read

  /** A hint about the VMM in the kernel's name: "firecracker" for a "-fc" part ("6.18.44-fc-v669"), else "". */
  std::string kernel_vmm_hint() const;
  const GuestBlockDevice* device(const std::string& name) const;
  /** The block device the description is about: the one with the blk-mq layout (the first), else the first. */
  const GuestBlockDevice* main_device() const;
};

/** Parses a guest description; `file` names it in errors (InputError with the line number). */
GuestFacts parse_guest_facts(const std::string& text, const std::string& file);
/** Reads and parses a file (InputError when it cannot be read). */
GuestFacts read_guest_facts(const std::string& path);

/** The guest description beside a fio trace: device.txt or guest-info.txt in the trace's own directory, else in
 * the directory above it (DIR/fio/x.json -> DIR/device.txt: the shared traces and capture bundles). A directory given
 * instead of a trace is searched the same way (itself, then its parent). nullopt when there is none. */
std::optional<std::string> guest_facts_file_for(const std::string& trace_file);

} // namespace pvsim::readers
