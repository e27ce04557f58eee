#include "models/workload/source_open.hpp"
#include "sim/resource_estimate.hpp"

#include "sim/registry.hpp"
#include "sim/simulation.hpp"

namespace pvsim {

const ParamTable<OpenSourceParams>& OpenSource::param_table()
{
  static const ParamTable<Params> t = [] {
    ParamTable<Params> tb(type_name);
    tb.number("rate_iops", &Params::rate_iops, std::nullopt, 1e-9, 1e12, "Mean arrival rate in requests per second.")
        .choice("arrival", &Params::arrival, {"poisson", "fixed"}, std::string("poisson"),
                "Arrival process: exponential gaps (poisson) or equal gaps (fixed).",
                "fio rate_process=linear is fixed; poisson is pvsim's default for queueing studies");
    describe_io_pattern(tb);
    return tb;
  }();
  return t;
}

OpenSource::OpenSource(std::string name, const Params& p) : JobSource(std::move(name), type_name, p), p_(p) {}

double OpenSource::next_gap()
{
  return p_.arrival == "poisson" ? rng_.exponential(1.0 / p_.rate_iops) : 1.0 / p_.rate_iops;
}

void OpenSource::estimate_resources(ResourceEstimate& e) const
{
  // What it holds in flight depends on the stack below (rate x response time), so only its rate is known here.
  e.add_request_rate(name(), p_.rate_iops);
}

void OpenSource::start(Simulation& sim)
{
  JobSource::start(sim);
  sim.events().schedule_in(next_gap(), this, 0);
}

void OpenSource::on_event(int, Request*)
{
  if (issue())
    sim_->events().schedule_in(next_gap(), this, 0);
}

PVSIM_REGISTER_MODEL(OpenSource);

} // namespace pvsim
