/* pvsim: the vCPU a Linux domU binds each new interdomain event channel to.
 *
 * Since Linux 5.11 (drivers/xen/events/events_base.c, select_target_cpu()) a new channel is first bound to vCPU 0,
 * then, when its interrupt starts up, moved to the online vCPU with the fewest channels bound, the lowest-numbered
 * on a tie; vCPU 0's count includes the new channel itself. Per-CPU channels (timer VIRQs, IPIs) are not counted.
 * A PV domU binds xenbus and the console (hvc_console) before its disks: on 4 vCPUs they land on vCPUs 1 and 2,
 * and a 4-queue xen-blkfront's rings then on vCPUs 3, 0, 1, 2 — what the xen-lab-tcg guest's /proc/interrupts shows
 * (1 queue: vCPU 3). Left out: irqbalance or a user moving channels later. */
#pragma once

#include <vector>

namespace pvsim::xen {

class EvtchnAffinity {
public:
  /** A domU with `vcpus` online vCPUs where `preceding` channels were bound (by the same rule) before ours. */
  EvtchnAffinity(int vcpus, int preceding);
  /** Binds one more channel; returns its vCPU. */
  int bind();
  /** Channels bound to each vCPU so far (the preceding ones included). */
  const std::vector<int>& channels_on_cpu() const { return channels_; }

private:
  std::vector<int> channels_;
};

} // namespace pvsim::xen
