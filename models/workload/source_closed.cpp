#include "models/workload/source_closed.hpp"
#include "sim/resource_estimate.hpp"

#include "sim/registry.hpp"
#include "sim/simulation.hpp"

namespace pvsim {

const ParamTable<ClosedSourceParams>& ClosedSource::param_table()
{
  static const ParamTable<Params> t = [] {
    ParamTable<Params> tb(type_name);
    tb.integer("iodepth", &Params::iodepth, 1, 1, 1 << 20, "Requests kept in flight.", "fio iodepth=1")
        .distribution("think_time", &Params::think_time, Distribution::deterministic(0),
                      "Pause between a completion and the next submission.", "fio thinktime=0");
    describe_io_pattern(tb);
    return tb;
  }();
  return t;
}

ClosedSource::ClosedSource(std::string name, const Params& p) : JobSource(std::move(name), type_name, p), p_(p) {}

namespace {
enum ClosedEvent { fill_queue = 0, after_think = 1 };
}

void ClosedSource::estimate_resources(ResourceEstimate& e) const
{
  e.add_requests(name(), static_cast<double>(p_.iodepth), "iodepth of '" + name() + "'");
  e.add_request_rate(name(), std::nullopt); // no CPU cost: only the device below bounds it
}

void ClosedSource::start(Simulation& sim)
{
  JobSource::start(sim);
  // Requests flow only once every component has started: the first ones leave at time 0, as an event.
  sim.events().schedule_in(0, this, fill_queue);
}

void ClosedSource::completed(double)
{
  if (not p_.think_time.is_zero())
    sim_->events().schedule_in(p_.think_time.sample(rng_), this, after_think);
  else
    issue();
}

void ClosedSource::on_event(int kind, Request*)
{
  if (kind == after_think) {
    issue();
    return;
  }
  for (long long i = 0; i < p_.iodepth; ++i)
    if (not issue())
      break;
}

PVSIM_REGISTER_MODEL(ClosedSource);

} // namespace pvsim
