/* pvsim: a migration's switchover seen from the disks (issue 19, part 2), a self-contained event model of a closed-loop
 * guest (fio: `depth` requests outstanding, each completion resubmitted at once) on one disk whose backing device
 * serves `parallel` requests at once (FIFO beyond), each in `service` (times a lognormal factor of sigma `jitter`,
 * drawn from `seed`: deterministic).
 *
 * Phases: before `stop_s` the guest runs on the source, its requests admitted to the device by the drain policy (the
 * others wait in the avail ring). At stop_s QEMU stops the vCPUs (vm_stop_force_state -> do_vm_stop: the guest
 * submits nothing and takes no interrupts, completions stay in the used ring) and drains the device (bdrv_drain_all):
 * the drain lasts until the last request in flight completes. The downtime is drain + (pending RAM + device state) /
 * bandwidth (transfer_s). The destination resumes at stop_s + downtime with the same disk (shared storage): the
 * requests still in the avail ring are served there first, then the guest continues until `end_s`.
 * Accounting: submitted = completed on source + completed on destination + in flight at end_s (checked).
 * Not yet wired into a scenario component (qemu.migration): the guest, fio and the device are the simple ones here. */
#pragma once

#include "models/qemu/drain_policy.hpp"

#include <cstdint>
#include <string>

namespace pvsim {

struct SwitchoverSetup {
  std::uint64_t depth             = 32;
  std::uint64_t parallel          = 1;
  double service_s                = 1e-3;
  double jitter                   = 0;
  std::uint64_t seed              = 1;
  double stop_s                   = 1.0;
  double transfer_s               = 0.05;
  double end_s                    = 2.0;
  std::string policy              = "none";
  DrainPolicyParams policy_params = DrainPolicyParams::defaults();
};

struct SwitchoverResult {
  std::uint64_t in_flight_at_stop = 0; // at the device when the vCPUs stopped
  std::uint64_t held_at_stop      = 0; // in the avail ring (held by the policy) at the stop
  double drain_s                  = 0;
  double downtime_s               = 0; // drain + transfer
  std::uint64_t submitted         = 0;
  std::uint64_t completed_source  = 0;
  std::uint64_t completed_dest    = 0;
  std::uint64_t in_flight_at_end  = 0;     // at the device or in the ring at end_s
  std::uint64_t completed_in_lead = 0;     // completions in [stop - lead, stop): the throttled window's throughput
  double held_wait_s              = 0;     // request-seconds waited in the ring because of the policy before the stop
  bool vcpus_ran_during_downtime  = false; // a submission or completion handled by the guest in the downtime
};

/** Runs the switchover; std::invalid_argument for an unknown policy or parameters out of range. */
SwitchoverResult run_switchover(const SwitchoverSetup& s);

} // namespace pvsim
