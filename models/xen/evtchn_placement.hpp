/* pvsim: which vCPU a Xen PV frontend's event channels upcall, as a named policy that can follow the guest's kernel.
 *
 * Linux binds every new event channel to vCPU 0 (bind_evtchn_to_cpu(evtchn, 0) in drivers/xen/events/events_base.c).
 * Up to 5.10, xen_irq_init() also forced the interrupt's affinity mask to CPU 0 ("By default all event channels
 * notify CPU#0"), so every frontend channel upcalls vCPU 0 until irqbalance or a user rewrites smp_affinity. From 5.11
 * (88f0a9d06644 "xen/events: Implement irq distribution" and its series) the mask is no longer forced and the
 * channel's interrupt startup moves it to the online vCPU with the fewest channels (select_target_cpu():
 * models/xen/evtchn_affinity.hpp). Policies:
 *   "default"  the guest kernel's own rule: "cpu0" before 5.11, "balance" from 5.11;
 *   "balance"  select_target_cpu() over the channels bound so far, in bind order (the 5.11+ kernel);
 *   "cpu0"     every channel on vCPU 0 (the kernel up to 5.10 without irqbalance);
 *   "spread"   queue q's channels on vCPU q mod vCPUs (what irqbalance's spreading typically gives: pvsim's
 *              abstraction of irqbalance, not its algorithm).
 * The bind order is the driver's: xen-blkfront binds one channel per ring in ring order (setup_blkring()),
 * xen-netfront two per queue with split event channels, Tx then Rx (setup_netfront_split()), else one
 * (setup_netfront_single()). Left out: irqbalance's own heuristics (cache domains, load), CPU hotplug rebinding. */
#pragma once

#include "models/host/kernel_version.hpp"
#include "models/xen/evtchn_affinity.hpp"

#include <string>
#include <vector>

namespace pvsim::xen {

class EvtchnPlacement {
public:
  /** The policy names a frontend's irq_affinity accepts. */
  static const std::vector<std::string>& policies();
  /** "default" resolved for `kernel`; any other name unchanged. */
  static std::string resolve(const std::string& policy, const KernelVersion& kernel);

  /** A domU with `vcpus` online vCPUs, `preceding` channels bound before the device's (xenbus, console, other
   * devices: they count for "balance"). Throws std::invalid_argument for an unknown policy or no vCPU. */
  EvtchnPlacement(const std::string& policy, const KernelVersion& kernel, int vcpus, int preceding);
  /** Binds the next channel of the device, one of queue `queue`'s; returns its vCPU. */
  unsigned bind(unsigned queue);
  /** The policy after resolving "default". */
  const std::string& policy() const { return policy_; }

private:
  std::string policy_;
  int vcpus_;
  EvtchnAffinity balance_;
};

} // namespace pvsim::xen
