/* pvsim model "guest.vm": a guest (a Xen domU or dom0, a KVM guest) as a set of vCPUs running on a pool of physical
 * cores (cpu.host). Each vCPU is a CpuThread: jobs pinned to it pay their submission and completion costs there,
 * and interrupts (event-channel upcalls, MSI-X vectors) bound to it run there, competing with the jobs.
 * Under a discrete scheduler on its cpu.host (credit2, cfs) the guest is a domain with a weight and a cap shared by its
 * vCPUs (xl sched-credit2 -w / -c; a KVM guest's cgroup cpu.weight and cpu.max).
 * Background load (background_cpus): CPU-bound tasks of the guest's other processes. Linux's load balancer keeps
 * them mostly off the CPU an I/O job runs on, so they cost the job nothing most of the time; now and then the job's
 * work finds one holding its vCPU (woken onto it, or the job's CPU taken by an interrupt burst) and waits for the rest
 * of that task's slice: under EEVDF with RUN_TO_PARITY a woken task does not preempt one that has not used up its
 * slice (kernel/sched/fair.c pick_eevdf(), check_preempt_wakeup_fair(); slice = sysctl_sched_base_slice x
 * get_update_sysctl_factor()), and with HRTICK off (kernel/sched/features.h) the slice's end is only seen at the next
 * scheduler tick (task_tick_fair() -> update_curr()), so the wait is U(0, slice) + U(0, 1/CONFIG_HZ): 2.7 ms on
 * average on 2 vCPUs at 250 Hz, where the shared traces' loaded runs measured 2.8 ms. Modelled as a second preemption
 * source on each vCPU (CpuThread::set_own_preemption): background_preempt_rate per CPU of background load, per second
 * of the vCPU's work, each wait drawn from background_preempt_duration. How often the balancer lets that happen is not
 * in the source: pvsim calibrate fits it from runs whose summary.csv records the load (foreign_cpus). Leaves out: guest
 * scheduler details (a vCPU runs its work in FIFO batches; the background tasks' placement and the CPU they take are
 * folded into that rate), idle halts and wake-up latency, memory. */
#pragma once

#include "models/host/cpu_host.hpp"
#include "models/host/kernel_version.hpp"
#include "sim/component.hpp"
#include "sim/cpu_thread.hpp"
#include "sim/params.hpp"
#include "sim/pinned_array.hpp"

#include <optional>
#include <string>
#include <vector>

namespace pvsim {

struct GuestVmParams {
  long long vcpus;
  std::string pcpus;
  double quantum_s;
  std::string kernel;
  bool pv_spinlocks;
  double pv_spin_threshold_s;
  double pv_kick_cpu_s;
  double pv_wake_latency_s;
  double sched_weight;
  double sched_cap_percent;
  double background_cpus;
  double background_preempt_rate_hz;
  std::optional<Distribution> background_preempt_duration;
  double tick_hz;
};

class GuestVm : public Component {
public:
  static constexpr const char* type_name = "guest.vm";
  static constexpr const char* summary   = "A guest's vCPUs, running on a pool of physical cores.";
  using Params                           = GuestVmParams;
  static const ParamTable<Params>& param_table();

  GuestVm(std::string name, const Params& p);
  bool accepts_requests() const override { return false; }
  void connect() override { host_ = &CpuHost::from_port(*this, "pcpus"); }
  void validate() override;
  void start(Simulation& sim) override;
  void estimate_resources(ResourceEstimate& e) const override;

  int vcpus() const { return static_cast<int>(vcpus_.size()); }
  /** The Linux version the guest runs (models/host/kernel_version.hpp). */
  KernelVersion kernel() const { return parse_kernel(p_.kernel); }
  CpuThread& vcpu(int i) { return vcpus_.at(static_cast<std::size_t>(i)); }
  /** The guest kernel's paravirtual spinlocks, for the locks of its drivers (on with more than one vCPU). */
  PvSpin pv_spin() const
  {
    return {p_.pv_spinlocks and p_.vcpus > 1, p_.pv_spin_threshold_s, p_.pv_kick_cpu_s, p_.pv_wake_latency_s};
  }
  /** The guest kernel's x86 spinlock, the default of its drivers' locks (sim/spin_lock.hpp): the ticket lock up to
   * Linux 4.1, the queued spinlock from 4.2 (kernel/locking/qspinlock.c, "x86: Enable x86-64 to use queued
   * spinlocks"). */
  std::string spinlock_kind() const { return kernel().before(4, 2) ? "ticket" : "qspinlock"; }
  /** The physical cores the vCPUs run on (known once the scenario is wired, whatever the order of connect()). */
  const CpuHost& pcpus() const { return CpuHost::from_port(*this, "pcpus"); }

  /** How long a job's work waits behind a background task each time: background_preempt_duration, else the rest
   * of an EEVDF slice, uniform between 0 and base slice x (1 + ilog2(min(vCPUs, 8))), plus the wait for the next
   * tick, uniform between 0 and 1 / tick_rate. */
  Distribution background_wait() const;

  /** The guest.vm a resource port names, or an InputError naming the port. */
  static GuestVm& from_port(const Component& owner, const std::string& port);

private:
  Params p_;
  CpuHost* host_ = nullptr;
  PinnedArray<CpuThread> vcpus_; // side by side: a request's vCPUs are one block, not a pointer each
};

} // namespace pvsim
