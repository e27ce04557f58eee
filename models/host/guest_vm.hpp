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
 * in the source: pvsim calibrate fits it from runs whose summary.csv records the load (foreign_cpus), and cautions
 * when the loaded runs at depth are no slower than the quiet ones: on a 6.18 KVM guest, CPU-bound spinners on every
 * vCPU cost fio nothing from iodepth 4 to 256 and add no millisecond waits (tests/data/real/kvm-busy-guest-20261208),
 * so what such a wait stands for is not a CPU-bound task.
 * Idle halts (KVM): a vCPU with nothing to run halts (default_idle(): HLT; the guest's cpuidle driver is "none" on the
 * Firecracker/PVM guests pvsim was validated on, so no guest-side haltpoll) and KVM's kvm_vcpu_halt()
 * (virt/kvm/kvm_main.c) first polls for vcpu->halt_poll_ns, then blocks the vCPU's host thread. Work that comes while
 * it polls starts at once; after that it waits for the host to wake and run the thread again (halt_wake_latency).
 * The poll window adapts per vCPU after each halt as kvm_vcpu_halt() does: a halt no longer than the window changes
 * nothing; one longer than halt_poll_max shrinks it (shrink_halt_poll_ns(): divided by halt_poll_shrink, 0 = reset
 * to 0, and 0 below halt_poll_grow_start); a shorter one grows it (grow_halt_poll_ns(): x halt_poll_grow, at least
 * halt_poll_grow_start, at most halt_poll_max). A vCPU whose idle time a background task fills does not halt: work for
 * it waits for the IPI that makes the running vCPU exit (busy_kick_latency); the chance of that is background_cpus
 * over the guest's idle capacity (its vCPUs' idle time so far per second). With both latencies 0 (the default) the
 * vCPU always wakes as if polled, as before they existed.
 * Leaves out: guest scheduler details (a vCPU runs its work in FIFO batches; the background tasks' placement and the
 * CPU they take are folded into that rate), the host CPU that halt polling burns, the kick of a vCPU busy with the
 * modelled work (its interrupt waits behind that work anyway), halts in actor or scheduled mode (a vCPU
 * oversubscribed on its cores), memory. */
#pragma once

#include "models/host/cpu_host.hpp"
#include "models/host/kernel_version.hpp"
#include "sim/component.hpp"
#include "sim/cpu_thread.hpp"
#include "sim/params.hpp"
#include "sim/pinned_array.hpp"
#include "sim/rng.hpp"

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
  double halt_wake_latency_s;
  double busy_kick_latency_s;
  double halt_poll_max_s;
  double halt_poll_grow;
  double halt_poll_grow_start_s;
  double halt_poll_shrink;
};

class GuestVm : public Component, public IdleWake {
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

  /** IdleWake: a vCPU idle for `idle_s` halted (polled or blocked) or ran a background task; the delay it adds. */
  double wake_delay(const CpuThread& t, double idle_s) override;
  /** Whether idle vCPUs pay for waking up (either latency set). */
  bool models_halts() const { return p_.halt_wake_latency_s > 0 or p_.busy_kick_latency_s > 0; }

  /** The guest.vm a resource port names, or an InputError naming the port. */
  static GuestVm& from_port(const Component& owner, const std::string& port);

private:
  Params p_;
  CpuHost* host_ = nullptr;
  PinnedArray<CpuThread> vcpus_; // side by side: a request's vCPUs are one block, not a pointer each
  /** A vCPU's halts: kvm_vcpu_halt()'s adaptive poll window and what its idle periods ended as. */
  struct Halts {
    double poll_s = 0; // vcpu->halt_poll_ns (0 when the vCPU is created)
    Counter polled;    // woken while KVM polled
    Counter blocked;   // woken from a blocked host thread
    Counter kicked;    // running a background task: kicked out of it
    Sum wait_s;        // the delays these added
  };
  std::vector<Halts> halts_;
  /** What one vCPU's idle period of `idle_s` ended as (counted in h), and the delay that adds. */
  double halt_delay(Halts& h, double idle_s);
  Rng halt_rng_;
  double idle_total_s_ = 0; // the vCPUs' idle periods so far, summed
  EventQueue* events_  = nullptr;
};

} // namespace pvsim
