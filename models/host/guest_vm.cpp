#include "models/host/guest_vm.hpp"
#include "sim/resource_estimate.hpp"

#include "sim/registry.hpp"
#include "sim/simulation.hpp"

#include <algorithm>

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
                  "kernels")
        .quantity("halt_wake_latency", Dimension::duration, &Params::halt_wake_latency_s, 0, 0, 1,
                  "How much later than a polled one a halted vCPU runs again once KVM has blocked its host thread "
                  "(the host wakes the thread and schedules it back in). 0: idle vCPUs are never slower to wake "
                  "(halts not modelled).",
                  "0: off. Measured on a 2-vCPU Firecracker-like guest of the PVM host's kind (README \"Idle vCPUs\"): "
                  "an IPI to a vCPU idle 180 us or more takes 35-45 us, idle up to 170 us (polled) 7.5-11 us: ~28 us")
        .quantity("busy_kick_latency", Dimension::duration, &Params::busy_kick_latency_s, 0, 0, 1,
                  "How much later than a polled vCPU one that runs a background task takes an interrupt or IPI (the "
                  "kick that makes the running vCPU exit, without posted interrupts). 0: not modelled.",
                  "0: off. Measured as halt_wake_latency, with a SCHED_IDLE task on the target vCPU: 26-29 us, ~18 us "
                  "more than polled")
        .quantity("halt_poll_max", Dimension::duration, &Params::halt_poll_max_s, 200e-6, 0, 1,
                  "KVM's most halt-polling time per halt (the host's kvm.halt_poll_ns).",
                  "x86: KVM_HALT_POLL_NS_DEFAULT 200000 (arch/x86/include/asm/kvm_host.h); the measured guest's step "
                  "between 170 and 180 us of idle agrees")
        .number(
            "halt_poll_grow", &Params::halt_poll_grow, 2, 0, 1000,
            "Factor by which a halt shorter than halt_poll_max widens the vCPU's poll window (kvm.halt_poll_ns_grow; "
            "0: it never grows, so the vCPU never polls).",
            "virt/kvm/kvm_main.c: halt_poll_ns_grow = 2")
        .quantity("halt_poll_grow_start", Dimension::duration, &Params::halt_poll_grow_start_s, 10e-6, 0, 1,
                  "The poll window a vCPU grows to from 0 (kvm.halt_poll_ns_grow_start).",
                  "virt/kvm/kvm_main.c: halt_poll_ns_grow_start = 10000")
        .number("halt_poll_shrink", &Params::halt_poll_shrink, 0, 0, 1000,
                "Divisor of the poll window after a halt longer than halt_poll_max (kvm.halt_poll_ns_shrink); 0 "
                "resets it to 0.",
                "virt/kvm/kvm_main.c: halt_poll_ns_shrink = 0");
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
  if (models_halts()) {
    halts_.resize(vcpus_.size());
    for (std::size_t i = 0; i < vcpus_.size(); ++i) {
      std::string where = "/vcpus/" + std::to_string(i) + "/";
      Halts& h          = halts_[i];
      st.add(where + "halts_polled", h.polled, "halts", "idle periods that ended while KVM polled (no delay)");
      st.add(where + "halts_blocked", h.blocked, "halts",
             "idle periods that ended with the vCPU's host thread blocked (halt_wake_latency)");
      st.add(where + "background_kicks", h.kicked, "kicks",
             "idle periods a background task filled, ended by a kick (busy_kick_latency)");
      st.add(where + "wake_wait_s", h.wait_s, "s", "time the vCPU's work waited for the vCPU to wake up");
    }
  }
}

double GuestVm::wake_delay(const CpuThread& t, double idle_s)
{
  if (idle_s <= 0) // work that came as the last ran out: the vCPU never reached its idle loop (start() sets this
    return 0;      // IdleWake only when models_halts())
  Halts& h     = halts_[static_cast<std::size_t>(&t - &vcpus_[0])];
  double delay = halt_delay(h, idle_s);
  idle_total_s_ += idle_s + delay; // a vCPU waking up is still idle
  h.wait_s += delay;
  return delay;
}

double GuestVm::halt_delay(Halts& h, double idle_s)
{
  // The background tasks run on idle vCPUs: the chance that one holds this vCPU is their CPU over the guest's idle
  // capacity so far (its vCPUs' idle periods per second; all of it before the first period has ended).
  if (p_.background_cpus > 0) {
    double idle_cpus = idle_total_s_ > 0 ? idle_total_s_ / events_->now() : static_cast<double>(vcpus_.size());
    if (halt_rng_.uniform() * idle_cpus < p_.background_cpus) {
      ++h.kicked;
      return p_.busy_kick_latency_s;
    }
  }
  if (h.poll_s > 0 and idle_s <= h.poll_s) { // kvm_vcpu_halt(): woken while polling; the window stays
    ++h.polled;
    return 0;
  }
  double delay  = p_.halt_wake_latency_s;
  double halt_s = idle_s + delay; // what kvm_vcpu_halt() measures: from the halt to the thread running again
  double max    = p_.halt_poll_max_s;
  if (h.poll_s > 0 and halt_s > max) { // shrink_halt_poll_ns()
    h.poll_s = p_.halt_poll_shrink > 0 ? h.poll_s / p_.halt_poll_shrink : 0;
    if (h.poll_s < p_.halt_poll_grow_start_s)
      h.poll_s = 0;
  } else if (h.poll_s < max and halt_s < max and p_.halt_poll_grow > 0) { // grow_halt_poll_ns(); grow 0: never
    h.poll_s = std::min(std::max(h.poll_s * p_.halt_poll_grow, p_.halt_poll_grow_start_s), max);
  }
  ++h.blocked;
  return delay;
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
  events_ = &sim.events();
  if (models_halts()) {
    halt_rng_ = Rng(sim.seed(), name() + "/halts");
    for (auto& v : vcpus_)
      v.set_idle_wake(this);
  }
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
