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
  std::string device; // name of an entry of devices, or empty
};

struct Bundle {
  std::string dir;
  std::string manifest_file;
  json manifest;
  std::string role;
  int vcpus = 0;
  std::vector<Device> devices;
  std::vector<std::string> engines;
  std::vector<Run> runs;
  std::string xenstore_file; // empty when the bundle has no XenStore dump

  /** The device called `name`, or nullptr. */
  const Device* device(const std::string& name) const;
};

/** Reads DIR/manifest.json. Throws InputError naming the manifest and the JSON pointer of the first problem (missing
 * or mistyped field, unknown format or version, referenced file that does not exist). */
Bundle read_bundle(const std::string& dir);

/** The guest of one run as a device.json "guest" object ({vcpus, hw_queues, tags, estimated}): the bundle's vCPUs,
 * and the queue count and per-queue tags of the run's device (or of the only device). What cannot be told from the
 * bundle is taken from `fallback` (the device file's guest) and said in `notes`. */
json guest_for_run(const Bundle& b, const Run& run, const json& fallback, std::vector<std::string>& notes);

/** {"role", "vcpus", "devices", "checks": [{"device", "check", "xenstore", "sysfs", "ok"}], "mismatches", "notes"}:
 * for a bundle with a XenStore dump, each vbd's negotiated queue count against the mq directories of its guest
 * device, and its ring slots against every queue's nr_tags. */
json check_structure(const Bundle& b);

} // namespace pvsim::bundle
