/* pvsim: the vCPU wake-up latencies a capture measured on its machine (vcpu_wake.json, written by
 * analysis/capture/vcpu_wake.cpp through capture.sh), which calibrate gives guest.vm: halt_wake_latency (a vCPU whose
 * host thread KVM blocked, over one still polled) and busy_kick_latency (a vCPU running another task). README "Idle
 * vCPUs". Found beside the traces: in the directory of the first trace that has one, or in its parent (a bundle's
 * fio/ directory's). */
#pragma once

#include "sim/json_node.hpp"

#include <optional>
#include <string>
#include <vector>

namespace pvsim::calibration {

struct VcpuWake {
  std::string file;
  double halt_wake_latency_s;
  double busy_kick_latency_s;
  json poll_window_us; // [below, above] as measured (null where unknown)
};

/** The measurement beside the traces, if any. Throws InputError (the file, the JSON path, what was expected) for a file
 * that is not the tool's output. */
std::optional<VcpuWake> vcpu_wake_beside(const std::vector<std::string>& trace_files);

} // namespace pvsim::calibration
