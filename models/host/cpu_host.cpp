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
                      "one time slice of the task that takes it: 3 ms (EEVDF's base slice on 8 CPUs)");
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

void CpuHost::run(CpuThread& thread, EventQueue& events)
{
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

} // namespace pvsim
