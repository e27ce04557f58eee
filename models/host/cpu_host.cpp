#include "models/host/cpu_host.hpp"

#include "sim/platform.hpp"
#include "sim/registry.hpp"

namespace pvsim {

const ParamTable<CpuHostParams>& CpuHost::param_table()
{
  static const ParamTable<Params> t = [] {
    ParamTable<Params> tb(type_name);
    tb.integer("cores", &Params::cores, 1, 1, 4096, "Physical cores in the pool.", "one core")
        .integer("sockets", &Params::sockets, 1, 1, 64,
                 "Sockets the pool's cores are split over (evenly, in order): a line moves between sockets at "
                 "line_transfer_remote.",
                 "one socket")
        .quantity("line_transfer", Dimension::duration, &Params::line_transfer_s, 45e-9, 0, 1e-3,
                  "Moving a written cache line to another core of the same socket (0: lines move for free).",
                  "nviennot/core-to-core-latency: Xeon E5-2695 v4 44 ns, 8275CL 47 ns")
        .quantity("line_transfer_remote", Dimension::duration, &Params::line_transfer_remote_s, 120e-9, 0, 1e-3,
                  "Moving a written cache line to a core of another socket.",
                  "nviennot/core-to-core-latency: Xeon E5-2695 v4 118 ns, 8275CL 134 ns")
        .number("speed_factor", &Params::speed_factor, 1.0, 1e-3, 1e3,
                "Speed relative to the reference core that the models' CPU costs are given for.",
                "1: costs are times on these cores")
        .quantity("context_switch", Dimension::duration, &Params::context_switch_s, 3e-6, 0, 1,
                  "CPU a thread pays when it starts work while every core is busy (switch, cache refill).",
                  "pvsim estimate: 2-5 us for a Linux context switch with its cache effects")
        .quantity("timeslice", Dimension::duration, &Params::timeslice_s, 3e-3, 1e-6, 10,
                  "CPU a busy thread runs before the scheduler lets a waiting one in.",
                  "CFS sched_min_granularity: 0.75 ms x (1 + log2 CPUs), 3 ms on 8 CPUs")
        .quantity("preempt_rate", Dimension::frequency, &Params::preempt_rate_hz, 0, 0, 1e6,
                  "Times per second of CPU time a running thread loses its core to work outside the model (exponential "
                  "CPU time between losses).",
                  "0: nothing else runs on these cores; pvsim calibrate fits it from the iodepth-1 latency tail")
        .distribution("preempt_duration", &Params::preempt_duration, Distribution::deterministic(3e-3),
                      "How long the core is taken away each time.",
                      "one time slice of the task that takes it: 3 ms (EEVDF's base slice on 8 CPUs)")
        .choice("scheduler", &Params::scheduler, sched_policies().names(), "fluid",
                "How the cores are shared when threads outnumber them: fluid (processor sharing, no slices), credit2 "
                "(Xen's default scheduler) or cfs (Linux up to 6.5); `pvsim models` says what each does.",
                "fluid: the model the shipped scenarios were calibrated with; Xen hosts run credit2 (default since "
                "Xen 4.12), KVM hosts CFS/EEVDF")
        .quantity("sched_ratelimit", Dimension::duration, &Params::sched_ratelimit_s, 0, 0, 1,
                  "credit2: the least a vCPU runs before another may preempt it (0: Xen's default, 1 ms).",
                  "xen: sched_ratelimit_us, SCHED_DEFAULT_RATELIMIT_US = 1000")
        .quantity("sched_latency", Dimension::duration, &Params::sched_latency_s, 0, 0, 1,
                  "cfs: the period runnable threads share (0: the kernel's 6 ms x (1 + log2 min(cores, 8))).",
                  "kernel/sched/fair.c: sysctl_sched_latency, get_update_sysctl_factor()")
        .quantity("cap_period", Dimension::duration, &Params::cap_period_s, 0, 0, 10,
                  "Period over which a domain's cap is a CPU budget (0: the scheduler's own: credit2 10 ms, cfs "
                  "100 ms).",
                  "xen: sched_credit2_cap_period_ms (10); Linux: cpu.cfs_period_us (100000)");
    return tb;
  }();
  return t;
}

CpuHost::CpuHost(std::string name, const Params& p) : Component(std::move(name), type_name), p_(p)
{
  declare_stats();
}

void CpuHost::declare_stats()
{
  StatSet& st = stats();
  st.info(
      "/cores", [this] { return p_.cores; }, "physical cores in the pool");
  st.info(
      "/threads", [this] { return threads_.size(); }, "threads placed on the cores (vCPUs, kthreads, IOThreads...)");
  st.formula(
      "/cpu_s", [this](const StatWindow&) { return json(threads_cpu_s()); }, "s",
      "CPU time the threads consumed, in seconds of these cores");
  st.formula(
      "/utilization",
      [this](const StatWindow& w) {
        double span = w.span_s();
        return json(span > 0 ? threads_cpu_s() / (span * static_cast<double>(p_.cores)) : 0.0);
      },
      "fraction", "busy fraction of the pool's cores (CPU time / (window x cores))");
  st.add("/context_switches", load_.switches, "switches",
         "context switches paid by threads starting work while every core was busy, or after a full time slice");
  if (sched_policies().get(p_.scheduler).make != nullptr) {
    st.info(
        "/scheduler", [this] { return p_.scheduler; }, "the discrete scheduler sharing the cores");
    st.add("/runnable_wait_s", sched_stats_.wait_s, "s",
           "time threads were runnable but had no core (what a Xen guest sees as steal time)");
    st.add("/wakeup_preemptions", sched_stats_.wakeup_preemptions, "preemptions",
           "a waking thread took a running one's core");
    st.add("/slice_switches", sched_stats_.slice_switches, "switches",
           "a thread's slice ended and another got its core");
    st.add("/parked_s", sched_stats_.parked_s, "s", "time threads could not run, their domain's cap spent");
  }
  if (p_.preempt_rate_hz > 0) {
    st.formula(
        "/preemptions", [this](const StatWindow&) { return json(sum_over_threads(&CpuThread::preemptions)); },
        "preemptions", "times a running thread lost its core to work outside the model");
    st.formula(
        "/preempted_s", [this](const StatWindow&) { return json(sum_over_threads(&CpuThread::preempted_s)); }, "s",
        "time the threads' work waited, their core taken away");
  }
}

double CpuHost::threads_cpu_s() const
{
  double cpu = 0;
  for (const auto* t : threads_)
    cpu += t->cpu_s() / p_.speed_factor;
  return cpu;
}

void CpuHost::validate()
{
  if (p_.sockets > p_.cores)
    fail("has " + std::to_string(p_.sockets) + " sockets for " + std::to_string(p_.cores) +
             " cores: at most one socket per core",
         "sockets");
  if (p_.preempt_rate_hz > 0 and p_.preempt_duration.mean() <= 0)
    fail("preempt_duration must be longer than 0 when preempt_rate is set", "preempt_duration");
}

void CpuHost::build_platform(Platform& platform)
{
  host_               = platform.add_host(name(), static_cast<int>(p_.cores), p_.speed_factor);
  first_core_         = platform.number_cores(static_cast<int>(p_.cores));
  load_.cores         = static_cast<int>(p_.cores);
  load_.switch_cost_s = p_.context_switch_s;
  load_.timeslice_s   = p_.timeslice_s;
  load_.speed_factor  = p_.speed_factor;
  load_.preemption    = Preemption{p_.preempt_rate_hz, p_.preempt_duration, platform.seed() ^ Rng::fnv1a(name())};
}

void CpuHost::run(CpuThread& thread, EventQueue& events, const SchedAttrs& attrs)
{
  if (const auto& make = sched_policies().get(p_.scheduler).make; make != nullptr) {
    if (sched_ == nullptr) {
      SchedTunables t{p_.sched_ratelimit_s, p_.sched_latency_s, p_.cap_period_s};
      sched_ = std::make_unique<CoreScheduler>(static_cast<int>(p_.cores), make(static_cast<int>(p_.cores), t), events,
                                               p_.context_switch_s, load_.switches, sched_stats_);
      load_.scheduler = sched_.get();
    }
    // A thread's domain: the guest that owns it, else the component (the part of its name before the first '.').
    std::string domain = attrs.domain.empty() ? thread.name().substr(0, thread.name().find('.')) : attrs.domain;
    int group          = domains_.emplace(domain, static_cast<int>(domains_.size())).first->second;
    thread.set_sched_entity(sched_->add(&thread, thread.name(), attrs.weight, group));
    if (attrs.cap_cores > 0)
      sched_->set_cap(group, attrs.cap_cores);
  }
  int core = static_cast<int>(threads_.size() % static_cast<std::size_t>(p_.cores));
  thread.set_place({first_core_ + core, static_cast<int>(core * p_.sockets / p_.cores)});
  load_.threads++;
  thread.start(host_, &load_, events);
  threads_.push_back(&thread);
  thread.track_stats(stats());
}

CpuHost& CpuHost::from_port(const Component& owner, const std::string& port)
{
  auto* h = dynamic_cast<CpuHost*>(owner.port(port));
  if (h == nullptr)
    owner.fail("'" + port + "' must name a cpu.host component", port);
  return *h;
}

PVSIM_REGISTER_MODEL(CpuHost);

namespace {
PVSIM_REGISTER_SCHED_POLICY(SchedPolicyInfo{
    "fluid",
    "processor sharing: with more runnable threads than cores each runs slower (SimGrid shares the cores); no time "
    "slices, no wake-up preemption",
    "pvsim's first model of a pool (an idealised fair scheduler)", nullptr});

} // namespace

} // namespace pvsim
