/* pvsim: `pvsim validate --bundle` on a network lab's bundle (iperf3 runs over a multi-queue Xen vif, see
 * analysis/lab/README.md): the vif's structure checks (bundle.hpp), then each iperf3 run simulated with
 * net.flow -> xen.netfront -> xen.netback on the bundle's machine, and the throughput compared.
 *
 * The machine: the domU's vCPUs and dom0's netback threads on the host's physical cores; dom0 terminates the streams
 * (a 100 Gbit/s link with no latency stands for dom0's own stack, not a wire). The CPU costs are the models'
 * defaults for native hardware; on an emulated host everything runs slower by one factor, the host's speed_factor,
 * fitted on the run with the fewest streams (throughput scales with it when the CPUs are the bottleneck), so that
 * run's error is 0 by construction and the others are predictions of how streams and queues scale. */
#pragma once

#include "analysis/calibration/bundle.hpp"
#include "sim/json_node.hpp"

#include <string>

namespace pvsim::validation {

struct Options;

/** {"device": "...", "runs": [], "net_runs": [{"trace", "streams", "measured": {"gbps"}, "predicted": {"gbps"},
 * "error_pct": {"gbps"}}], "summary": {"median_abs_error_pct": {"gbps"}}, "bundle": {...}, "fit": {...}}. */
json run_net_validation(const bundle::Bundle& b, const Options& opt);

/** Goodput of an iperf3 -J result in Gbit/s: end.sum_received (else end.sum_sent) bits_per_second. InputError when
 * the file is not iperf3 JSON. */
double iperf3_gbps(const std::string& file);

} // namespace pvsim::validation
