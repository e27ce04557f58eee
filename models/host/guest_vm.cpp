#include "models/host/guest_vm.hpp"
#include "sim/resource_estimate.hpp"

#include "sim/registry.hpp"
#include "sim/simulation.hpp"

namespace pvsim {

const ParamTable<GuestVmParams>& GuestVm::param_table()
{
  static const ParamTable<Params> t = [] {
    ParamTable<Params> tb(type_name);
    tb.integer("vcpus", &Params::vcpus, 1, 1, 4096, "Virtual CPUs.", "one vCPU")
        .resource("pcpus", &Params::pcpus, true, "The cpu.host whose cores run the vCPUs.")
        .quantity("quantum", Dimension::duration, &Params::quantum_s, 20e-6, 1e-9, 1,
                  "Most CPU work a vCPU takes in one batch before it acts on its results.",
                  "pvsim: 20us, below the latencies studied")
        .version_choice(
            "kernel", &Params::kernel, supported_kernels(), "6.18",
            "Linux version the guest runs (quote x.10 and x.20: as numbers they read x.1, x.2): the "
            "defaults that changed across kernels follow it (blk-mq's "
            "default map: <= 4.12 linux-2015, 4.13-5.3 legacy, 5.4-6.2 linux-6.1, >= 6.3 linux-6.3; virtio-pci's "
            "map from the IRQ affinity spread from 4.11; Xen frontends' event channels: vCPU 0 up to 5.10, "
            "the least-loaded vCPU from 5.11).",
            "6.18, the recorded Firecracker guest (../shared/traces/virtio-vm-1q, uname 6.18.44-fc)")
        .flag("pv_spinlocks", &Params::pv_spinlocks, true,
              "Paravirtual spinlocks (sim/spin_lock.hpp PvSpin): a waiter blocks its vCPU after spinning "
              "pv_spin_threshold and is kicked at its turn. Linux turns them on in Xen and KVM guests of more than "
              "one vCPU (off with nopvspin).",
              "arch/x86/xen/spinlock.c: xen_init_spinlocks(); arch/x86/kernel/kvm.c: kvm_spinlock_init()")
        .quantity("pv_spin_threshold", Dimension::duration, &Params::pv_spin_threshold_s, 130e-6, 0, 1,
                  "How long a waiter spins before it blocks: SPIN_THRESHOLD (1 << 15) spins of a load and a PAUSE.",
                  "kernel/locking/qspinlock_paravirt.h and the pv ticket locks: SPIN_THRESHOLD = 1 << 15; ~10 cycles "
                  "a spin at 2.5 GHz (PAUSE before Skylake; ~140 cycles from Skylake-SP make it ~2 ms)")
        .quantity("pv_kick_cpu", Dimension::duration, &Params::pv_kick_cpu_s, 0.5e-6, 0, 1,
                  "CPU of the releaser to kick a blocked waiter (xen_qlock_kick(): an event-channel send).",
                  "as xen.blkfront's notify_cpu: the same EVTCHNOP_send hypercall")
        .quantity("pv_wake_latency", Dimension::duration, &Params::pv_wake_latency_s, 5e-6, 0, 1,
                  "From the kick to the blocked vCPU running again (the hypervisor wakes and schedules it).",
                  "pvsim estimate: an IPI to the idle pCPU and a vCPU context switch")
        .number("sched_weight", &Params::sched_weight, 0, 0, 65535,
                "The guest's weight under its cpu.host's discrete scheduler (0: the scheduler's default, credit2 "
                "256, cfs 1024); ignored by the fluid one.",
                "xen: CSCHED2_DEFAULT_WEIGHT 256 (xl sched-credit2 -w); Linux: NICE_0_LOAD 1024")
        .number("sched_cap_percent", &Params::sched_cap_percent, 0, 0, 409600,
                "Most CPU the guest's vCPUs may use together, in percent of one physical core (0: no cap; 50: half "
                "a core); needs a discrete scheduler on its cpu.host.",
                "xen: xl sched-credit2 -c (credit2 caps, Xen 4.10); Linux: cpu.max quota / period")
        .number("background_cpus", &Params::background_cpus, 0, 0, 4096,
                "CPUs' worth of CPU-bound work the guest's other processes run beside the modelled jobs (what a "
                "capture's summary.csv records as foreign_cpus); at most vcpus.",
                "0: a quiet guest")
        .quantity("background_preempt_rate", Dimension::frequency, &Params::background_preempt_rate_hz, 79, 0, 1e6,
                  "Per CPU of background work: times per second of a vCPU's work that the work waits behind a "
                  "background task holding the vCPU (exponential CPU time between waits).",
                  "pvsim calibrate on ../shared/traces/virtio-vm-1q: 79 Hz (the excess iodepth-1 tail of its loaded "
                  "run over its quiet ones, per CPU of foreign_cpus; those waits last 2.8 ms on average, as the "
                  "default duration does on 2 vCPUs); not in the kernel's source: it is how often the load balancer "
                  "lets a background task share the job's CPU")
        .optional_distribution("background_preempt_duration", &Params::background_preempt_duration,
                               "How long each wait lasts (default: to the first scheduler tick after the rest of the "
                               "background task's EEVDF slice: U(0, slice) + U(0, 1 / tick_rate), slice = "
                               "sysctl_sched_base_slice x (1 + ilog2(min(vcpus, 8))), the base slice 0.70 ms as in "
                               "the 6.18 guest's kernel/sched/fair.c (0.75 ms when EEVDF came, 6.6); 2.7 ms on "
                               "average on 2 vCPUs at 250 Hz; pvsim calibrate replaces it with the loaded runs' "
                               "measured waits)")
        .quantity("tick_rate", Dimension::frequency, &Params::tick_hz, 250, 10, 1e5,
                  "The guest kernel's scheduler tick (CONFIG_HZ). With HRTICK off, the end of a running task's slice "
                  "is seen at the next tick (task_tick_fair() -> update_curr()), so a wait behind a background task "
                  "lasts to that tick.",
                  "kernel/sched/features.h: SCHED_FEAT(HRTICK, false); 250 Hz: Firecracker's 6.18 x86_64 guest "
                  "(resources/guest_configs/microvm-kernel-ci-x86_64-6.18.config: CONFIG_HZ=250), as Debian's "
                  "kernels");
    return tb;
  }();
  return t;
}

GuestVm::GuestVm(std::string name, const Params& p) : Component(std::move(name), type_name), p_(p)
{
  vcpus_.reset(static_cast<std::size_t>(p.vcpus)); // 1..4096 (the param table)
  for (long long i = 0; i < p.vcpus; ++i)
    vcpus_.emplace_back(this->name() + ".vcpu" + std::to_string(i), p.quantum_s).set_role(CpuThread::Role::guest_vcpu);
  StatSet& st = stats();
  for (std::size_t i = 0; i < vcpus_.size(); ++i) {
    CpuThread& v      = vcpus_[i];
    std::string where = "/vcpus/" + std::to_string(i) + "/";
    st.info(
        where + "vcpu", [&v] { return v.name(); }, "the vCPU's thread");
    st.formula(where + "utilization", v.utilization(), "fraction", "CPU time the vCPU consumed / window");
    st.formula(where + "running_fraction", v.running_fraction(), "fraction",
               "fraction of the window the vCPU spent running a batch (waits for a core included)");
    st.add(where + "work_items", v.stat_items(), "items", "work items the vCPU ran (submissions, completions, irqs)");
    st.add(where + "batches", v.stat_batches(), "batches", "batches of work the vCPU took");
    if (p.background_cpus > 0 and p.background_preempt_rate_hz > 0) {
      st.formula(
          where + "background_waits", [&v](const StatWindow&) { return json(v.own_preemptions()); }, "waits",
          "times the vCPU's work waited behind a background task");
      st.formula(
          where + "background_wait_s", [&v](const StatWindow&) { return json(v.own_preempted_s()); }, "s",
          "time the vCPU's work waited behind background tasks");
    }
  }
}

Distribution GuestVm::background_wait() const
{
  if (p_.background_preempt_duration)
    return *p_.background_preempt_duration;
  // kernel/sched/fair.c: sysctl_sched_base_slice (0.70 ms) scaled by get_update_sysctl_factor() (LOG scaling). The
  // woken job waits out what is left of it (RUN_TO_PARITY), then for the tick that notices (HRTICK is off).
  double slice_s = 0.70e-3 * linux_sysctl_factor(static_cast<int>(p_.vcpus)); // vcpus <= 4096
  return Distribution::uniform_sum(slice_s, 1 / p_.tick_hz);
}

void GuestVm::validate()
{
  if (p_.background_cpus > static_cast<double>(p_.vcpus))
    fail("background_cpus (" + std::to_string(p_.background_cpus) + ") cannot exceed the guest's " +
             std::to_string(p_.vcpus) + " vCPUs",
         "background_cpus");
  if (p_.background_cpus > 0 and p_.background_preempt_rate_hz > 0 and background_wait().mean() <= 0)
    fail("background_preempt_duration must be longer than 0 when the guest has background load",
         "background_preempt_duration");
  if (p_.sched_cap_percent > 0 and host_->scheduler() == "fluid")
    fail("sched_cap_percent needs a discrete scheduler on the cpu.host '" + host_->name() +
             "' (scheduler: credit2 or cfs); the fluid one has no caps",
         "sched_cap_percent");
}

void GuestVm::estimate_resources(ResourceEstimate& e) const
{
  e.add_actors(name(), static_cast<double>(vcpus_.size()), Simulation::actor_stack_bytes(),
               "vCPUs of '" + name() + "'");
}

void GuestVm::start(Simulation& sim)
{
  if (double rate = p_.background_preempt_rate_hz * p_.background_cpus; rate > 0)
    for (auto& v : vcpus_)
      v.set_own_preemption({rate, background_wait(), sim.seed() ^ Rng::fnv1a(name() + "/background")});
  for (auto& v : vcpus_)
    host_->run(v, sim.events(), {name(), p_.sched_weight, p_.sched_cap_percent / 100.0});
}

GuestVm& GuestVm::from_port(const Component& owner, const std::string& port)
{
  auto* vm = dynamic_cast<GuestVm*>(owner.port(port));
  if (vm == nullptr)
    owner.fail("'" + port + "' must name a guest.vm component", port);
  return *vm;
}

PVSIM_REGISTER_MODEL(GuestVm);

} // namespace pvsim
