#include "models/host/cpu_host.hpp"

#include "sim/platform.hpp"
#include "sim/registry.hpp"

namespace pvsim {

const ParamTable<CpuHostParams>& CpuHost::param_table()
{
  static const ParamTable<Params> t = [] {
    ParamTable<Params> tb(type_name);
    tb.integer("cores", &Params::cores, 1, 1, 4096, "Physical cores in the pool.", "one core")
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
                      "one time slice of the task that takes it: 3 ms (EEVDF's base slice on 8 CPUs)");
    return tb;
  }();
  return t;
}

void CpuHost::validate()
{
  if (p_.preempt_rate_hz > 0 and p_.preempt_duration.mean() <= 0)
    fail("preempt_duration must be longer than 0 when preempt_rate is set", "preempt_duration");
}

void CpuHost::build_platform(Platform& platform)
{
  host_               = platform.add_host(name(), static_cast<int>(p_.cores), p_.speed_factor);
  load_.cores         = static_cast<int>(p_.cores);
  load_.switch_cost_s = p_.context_switch_s;
  load_.timeslice_s   = p_.timeslice_s;
  load_.speed_factor  = p_.speed_factor;
  load_.preemption    = Preemption{p_.preempt_rate_hz, p_.preempt_duration, platform.seed() ^ Rng::fnv1a(name())};
}

void CpuHost::run(CpuThread& thread, EventQueue& events)
{
  load_.threads++;
  thread.start(host_, &load_, events);
  threads_.push_back(&thread);
}

void CpuHost::report(json& out, double now) const
{
  double span = now - window_start_;
  double cpu  = 0;
  for (const auto* t : threads_)
    cpu += t->cpu_s() / p_.speed_factor;
  out["cores"]            = p_.cores;
  out["threads"]          = threads_.size();
  out["cpu_s"]            = cpu;
  out["utilization"]      = span > 0 ? cpu / (span * static_cast<double>(p_.cores)) : 0.0;
  out["context_switches"] = load_.switches;
  if (p_.preempt_rate_hz > 0) {
    std::uint64_t n = 0;
    double lost     = 0;
    for (const auto* t : threads_) {
      n += t->preemptions();
      lost += t->preempted_s();
    }
    out["preemptions"] = n;
    out["preempted_s"] = lost;
  }
}

CpuHost& CpuHost::from_port(const Component& owner, const std::string& port)
{
  auto* h = dynamic_cast<CpuHost*>(owner.port(port));
  if (h == nullptr)
    owner.fail("'" + port + "' must name a cpu.host component", port);
  return *h;
}

PVSIM_REGISTER_MODEL(CpuHost);

} // namespace pvsim
