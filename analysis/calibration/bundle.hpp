/* pvsim: capture bundles, the directories written by analysis/capture/capture.sh (and by the labs of issue 5): a
 * manifest.json (format "pvsim-bundle", version 1; see analysis/capture/README.md) beside the fio json+ results and
 * the facts of the machine they were measured on (vCPUs, the device's blk-mq queues and tags, XenStore keys...).
 *
 * `pvsim validate --bundle DIR` reads it here: the scenario of each run takes the bundle's vCPUs, hardware queues and
 * tags instead of the device file's assumed guest, and for Xen bundles with an `xenstore-ls -f` dump the negotiated
 * structure is checked against the guest's /sys/block layout (queue count, ring slots = nr_tags per queue). */
#pragma once

#include "sim/json_node.hpp"

#include <optional>
#include <string>
#include <vector>

namespace pvsim::bundle {

inline constexpr const char* format        = "pvsim-bundle";
inline constexpr int format_version        = 1;
inline constexpr const char* manifest_name = "manifest.json";

struct Queue {
  int index = 0;
  std::string cpu_list;
  int nr_tags = 0;
};

struct Device {
  std::string name; // "xvda", "vda"
  int hw_queues = 0;
  std::vector<Queue> queues;
  std::string scheduler;
  std::optional<int> nr_requests;
  std::string xen_nodename; // "device/vbd/51712" (Xen guests), else empty
};

struct Run {
  std::string file; // path of the fio json+ result (bundle directory prepended)
  std::string rel;  // as written in the manifest
  std::string ioengine;
  std::string rw;
  int iodepth = 0; // 0: not given
  int numjobs = 0;
  std::string device;            // name of an entry of devices, or empty
  std::string interrupts_before; // /proc/interrupts around the run (paths with the directory), or empty
  std::string interrupts_after;
};

/** The machine that ran the guests (labs of analysis/lab/: an emulated host). */
struct Host {
  int physical_cores = 0; // cores of the machine that ran QEMU (0: not given)
  std::string accel;      // "tcg" (software emulation) or "kvm"
  int machine_cpus = 0;   // CPUs of the (outer) QEMU machine
};

struct Guest {
  std::string name; // "dom0", "domU", "guest"
  std::string role; // "xen-dom0", "xen-domU", "kvm-guest"
  int vcpus = 0;
};

/** The settings of a Xen block lab: the module parameters each side was loaded with. */
struct XenBlk {
  bool present                    = false;
  int backend_max_queues          = 0; // xen_blkback.max_queues (0: one per dom0 vCPU)
  int backend_max_ring_page_order = -1;
  std::optional<bool> feature_persistent;
  int frontend_max_queues          = 0;
  int frontend_max_ring_page_order = -1;
};

/** The QEMU block device of a virtio lab. */
struct Qemu {
  bool present = false;
  std::string aio; // "native", "io_uring", "threads"
  int num_queues = 0;
  int iothreads  = 0;
};

/** One iperf3 run of a network lab. */
struct NetRun {
  std::string file, rel;
  int streams = 1;
  std::string direction;
  double duration_s = 0;
  std::string interrupts_before, interrupts_after;
};

struct Vif {
  std::string name; // "eth0"
  int hw_queues = 0;
  std::string xen_nodename;
  int frontend_max_queues = 0, backend_max_queues = 0;
};

struct Bundle {
  std::string dir;
  std::string manifest_file;
  json manifest;
  std::string role;
  std::string kernel; // the guest's uname -r ("6.1.0-56-amd64"), or empty
  int vcpus = 0;
  std::vector<Device> devices;
  std::vector<std::string> engines;
  std::vector<Run> runs;         // may be empty when net_runs is not
  std::string xenstore_file;     // empty when the bundle has no XenStore dump
  std::string interrupts_before; // /proc/interrupts of the guest at the start and the end of the session, or empty
  std::string interrupts_after;
  std::string lab_variant; // "virtio", "xen-blk", "xen-net" for lab bundles, else empty
  Host host;
  std::vector<Guest> guests;
  XenBlk xen_blk;
  Qemu qemu;
  std::vector<NetRun> net_runs;
  std::vector<Vif> vifs;

  /** The device called `name`, or nullptr. */
  const Device* device(const std::string& name) const;
  /** The device a run measured: the one it names, else the only one, else nullptr. */
  const Device* device_of(const Run& run) const;
};

/** Reads DIR/manifest.json. Throws InputError naming the manifest and the JSON pointer of the first problem (missing
 * or mistyped field, unknown format or version, referenced file that does not exist). */
Bundle read_bundle(const std::string& dir);

/** The guest of one run as a device.json "guest" object ({vcpus, hw_queues, tags, estimated}): the bundle's vCPUs,
 * and the queue count and per-queue tags of the run's device (or of the only device). What cannot be told from the
 * bundle is taken from `fallback` (the device file's guest) and said in `notes`. */
json guest_for_run(const Bundle& b, const Run& run, const json& fallback, std::vector<std::string>& notes);

/** The guest called `name` (or with `role`), or nullptr. */
const Guest* find_guest(const Bundle& b, const std::string& role);

} // namespace pvsim::bundle
