#include "models/generic/fifo_station.hpp"

#include "sim/registry.hpp"
#include "sim/simulation.hpp"

namespace pvsim {

const ParamTable<FifoStationParams>& FifoStation::param_table()
{
  static const ParamTable<Params> t = [] {
    ParamTable<Params> tb(type_name);
    tb.integer("servers", &Params::servers, 1, 1, 1 << 20, "Number of identical servers (c).", "M/M/1: one server")
        .distribution("service", &Params::service, std::nullopt, "Service time of one request.")
        .ref("next", &Params::next, false, "Where a request goes after service (none: it completes here).");
    return tb;
  }();
  return t;
}

FifoStation::FifoStation(std::string name, const Params& p)
    : Component(std::move(name), type_name), p_(p), servers_(*this, static_cast<int>(p.servers))
{
}

void FifoStation::start(Simulation& sim)
{
  servers_.attach(sim.events());
  rng_  = sim.rng("station:" + name());
  next_ = port("next");
}

double FifoStation::service_time(const Request*)
{
  return p_.service.sample(rng_);
}

void FifoStation::served(Request* r)
{
  if (next_)
    next_->submit(r);
  else
    r->end_io();
}

PVSIM_REGISTER_MODEL(FifoStation);

} // namespace pvsim
