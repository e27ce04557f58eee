/* pvsim: the fit of one direction's parameters (reads, or writes), as calibrate() runs it step by step; how each
 * parameter is estimated is in calibration.hpp. Internal to analysis/calibration. */
#pragma once

#include "analysis/calibration/run_facts.hpp"
#include "sim/json_node.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace pvsim::calibration::detail {

/** A latency is in the tail, that preemption puts there, when it is above this many times the median (at iodepth 1
 * the body of the histogram ends well below: 3-6x on the virtio-vm-1q runs, the tail sits at 1-10 ms). */
constexpr double tail_over_median = 10;
/** Preemption explains rare losses: a tail holding more than this share of the iodepth-1 latencies is the service's
 * own (an emulated host's latencies, 12 % above 10x the median in the Xen lab, stay in the service). */
constexpr double max_preempted_share = 0.01;

/** The host's preemption of the stack's threads: fitted once, by the first direction whose iodepth-1 latencies have
 * a rare tail (reads when there are any). */
struct HostPreemption {
  std::optional<double> rate_hz;
  double mean_s = 0;
  json doc; // device.json's "preemption"
};

/** The guest's background load as the tail shows it (guest.vm background_preempt_*): fitted when the iodepth-1 runs
 * record their load (summary.csv foreign_cpus) and some are quiet, some loaded. */
struct GuestPreemption {
  std::optional<double> rate_per_cpu_hz; // background_preempt_rate
  json duration;                         // background_preempt_duration (empirical)
  json doc;                              // device.json's "guest_load"
};

/** "12.5us": a duration as a scenario writes it. */
std::string us(double s);

/** An empirical distribution of durations (seconds → weight) as device.json writes it (µs) and its mean. */
struct EmpiricalUs {
  json values = json::array(), counts = json::array();
  double mean_s = 0;
};
EmpiricalUs empirical_us(const std::map<double, double>& atoms);

/** The stack the device file describes: QEMU (virtio.blk's handlers on a qemu.iothread, the latency beyond the
 * modelled CPU in the backing device) or Firecracker (virtio.blk served by firecracker.vmm, Sync engine on the host's
 * page cache: the latency beyond the modelled CPU in the VMM thread's wake-up). */
enum class Stack { qemu, firecracker };

class DirectionFit {
public:
  /** `runs`: this direction's runs (not empty); notes on what cannot be fitted go to `not_fitted`. */
  DirectionFit(std::string dir, std::vector<const RunFacts*> runs, json& not_fitted, Stack stack = Stack::qemu);

  /** The job's submission and reaping CPU per request measured at depth (slat and fio's CPU at the deepest async
   * runs), when this direction had such runs. */
  struct DeepCosts {
    double submit_s, complete_s;
  };
  std::optional<DeepCosts> deep_costs() const;
  /** The other direction's deep costs (the same guest, the same syscalls): what a direction without a deep run takes
   * for its submission and reaping instead of job.fio's defaults, the rest of its iodepth-1 slat and CPU going to its
   * kick and wake-up. Call before fit_cpu_costs(). */
  void take_deep_costs_of(const std::string& other_dir, const DeepCosts& costs);
  /** submit_cpu, complete_cpu, kick_cpu, wakeup_cpu from slat and fio's CPU per I/O. */
  void fit_cpu_costs();
  /** The iodepth-1 latency tail: fits the host's preemption if none is yet, else keeps in the service what it does
   * not explain. When the iodepth-1 runs record their guest's load and some are quiet (below
   * validation::loaded_above_cpus), some loaded, the host's is fitted on the quiet ones and `guest` on what the
   * loaded ones have beyond it. */
  void fit_preemption(HostPreemption& host, GuestPreemption& guest);
  /** X_sat, the bottleneck's shape (the virtqueue's thread, the device's channels or the jobs' vCPUs) and
   * request_cpu when the thread is the bottleneck. */
  void fit_bottleneck(const HostPreemption& host);
  /** The device's service distribution: iodepth-1 latencies less the model's fixed completion path. */
  void fit_service();
  /** Little's law's channels (when the device is the bottleneck) and the baselines (R1, S, Z, c, Xmax), if an
   * iodepth-1 run allows them. */
  void fit_channels_and_baselines(json& baselines);
  /** Firecracker: the VMM thread's CPU per request from the saturated runs (the pass ping-pong, see the .cpp), and
   * the latency distribution again with it; call after fit_service. */
  void fit_vmm();
  /** Firecracker: the latency distribution again for the VMM thread's I/O CPU per request `sync_io_s` (the
   * refinement's value), so that the iodepth-1 path the model runs (that CPU plus the wake-up latency) stays the
   * measured one; returns the new "service" entry. Unchanged (the entry as it is) without iodepth-1 latency bins. */
  const json& refit_service_for_sync_io(double sync_io_s);

  /** The direction's entry of device.json's "parameters". */
  const json& params() const { return p_; }

private:
  /** The modelled path between the end of io_submit and the reaping at iodepth 1, besides the job's fitted costs. */
  double fixed_path() const;
  /** fixed_path() plus the job's fitted costs on the way back (and its submission for a sync engine's clat). */
  double completion_shift() const;
  /** The submission at iodepth 1 as the model charges it (every I/O kicks): submit_cpu + queue_rq_cpu + kick_cpu. */
  double model_slat1() const;
  /** GuestPreemption from the loaded iodepth-1 runs, beyond the host's rate fitted on the quiet ones. */
  void fit_guest_load(double host_rate_hz, const std::vector<const RunFacts*>& loaded, GuestPreemption& guest);
  /** The runs with 2 or more requests in flight that record their guest's load: {"configurations": each one that ran
   * both quiet and loaded, with its mean IOPS loaded over its mean IOPS quiet ("ratio"); and when there is one,
   * "iops_ratio" (their geometric mean) and "pooled_iops_cv" (the run-to-run noise of all those runs' configurations
   * with repeats, pooled)}. */
  json loaded_over_quiet_at_depth() const;
  /** The service distribution (QEMU: the device's; Firecracker: the VMM's wake-up latency) from the merged bins. */
  void service_from_bins(double shift);

  std::string dir_;
  Stack stack_;
  std::vector<const RunFacts*> all_, qd1_, qd1_async_, async_;
  std::vector<const RunFacts*> tail_src_; // the iodepth-1 runs whose latencies are merged (async ones preferred)
  std::vector<const RunFacts*> sat_;      // the deepest quarter's runs
  std::vector<const RunFacts*> sat_top_;  // the repeats of the configuration X_sat is the mean IOPS of
  json& not_fitted_;
  json p_;

  std::optional<double> submit_, kick_, complete_, wakeup_, request_, xsat_, service_mean_, vmm_io_;
  std::optional<DeepCosts> other_deep_; // take_deep_costs_of()
  std::string other_dir_;
  std::optional<double> xbest_;     // the best saturated run's IOPS: the baselines' ceiling
  std::optional<double> slat_deep_; // the deep runs' slat: submit_ + the driver's queue_rq (+ the kicks left)
  std::map<std::int64_t, std::uint64_t> bins_; // merged iodepth-1 clat bins (ns -> count)
  double tail_keep_    = 1;                    // the share of the tail bins left in the service distribution
  double tail_from_ns_ = 0;
  bool device_bound_   = false;
  bool vcpu_bound_     = false;
};

} // namespace pvsim::calibration::detail
