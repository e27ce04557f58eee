#include "models/generic/parallel_device.hpp"

#include "sim/registry.hpp"
#include "sim/simulation.hpp"

namespace pvsim {

const ParamTable<ParallelDeviceParams>& ParallelDevice::param_table()
{
  static const ParamTable<Params> t = [] {
    ParamTable<Params> tb(type_name);
    tb.integer("channels", &Params::channels, 1, 1, 1 << 20, "Requests the device serves at once.",
               "1: a device without internal parallelism")
        .distribution("read_service", &Params::read_service, std::nullopt, "Service time of a read.")
        .optional_distribution("write_service", &Params::write_service,
                               "Service time of a write (default: the read service time).");
    return tb;
  }();
  return t;
}

ParallelDevice::ParallelDevice(std::string name, const Params& p)
    : Component(std::move(name), type_name), p_(p), servers_(*this, static_cast<int>(p.channels))
{
}

void ParallelDevice::start(Simulation& sim)
{
  servers_.attach(sim.events());
  rng_ = sim.rng("device:" + name());
}

double ParallelDevice::service_time(const Request* r)
{
  if (r->op == Op::write and p_.write_service)
    return p_.write_service->sample(rng_);
  return p_.read_service.sample(rng_);
}

PVSIM_REGISTER_MODEL(ParallelDevice);

} // namespace pvsim
