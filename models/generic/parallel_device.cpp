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
                               "Service time of a write (default: the read service time).")
        .quantity("channel_rate", Dimension::bandwidth, &Params::channel_rate_Bps, 0, 0, 1e15,
                  "Transfer rate of one channel: a request of s bytes takes s / channel_rate on top of its service "
                  "time (0: every size takes the service time alone).",
                  "0: size-independent, as the device was before; an SSD's sequential bandwidth / its channels");
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
  double transfer = p_.channel_rate_Bps > 0 ? r->size_bytes / p_.channel_rate_Bps : 0.0;
  if (r->op == Op::write and p_.write_service)
    return p_.write_service->sample(rng_) + transfer;
  return p_.read_service.sample(rng_) + transfer;
}

PVSIM_REGISTER_MODEL(ParallelDevice);

} // namespace pvsim
