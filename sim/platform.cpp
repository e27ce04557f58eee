#include "sim/platform.hpp"

#include <simgrid/s4u/Host.hpp>
#include <simgrid/s4u/Link.hpp>
#include <simgrid/s4u/NetZone.hpp>

namespace pvsim {

simgrid::s4u::Host* Platform::add_host(const std::string& name, int cores, double speed_factor)
{
  auto* h = zone_->create_host(name, reference_flops * speed_factor);
  h->set_core_count(cores);
  return h;
}

void Platform::add_duplex_link(const std::string& name, simgrid::s4u::Host* a, simgrid::s4u::Host* b,
                               double bandwidth_Bps, double latency_s)
{
  auto* ab = zone_->create_link(name + ".ab", bandwidth_Bps)->set_latency(latency_s)->seal();
  auto* ba = zone_->create_link(name + ".ba", bandwidth_Bps)->set_latency(latency_s)->seal();
  zone_->add_route(a->get_netpoint(), b->get_netpoint(), nullptr, nullptr, {simgrid::s4u::LinkInRoute(ab)}, false);
  zone_->add_route(b->get_netpoint(), a->get_netpoint(), nullptr, nullptr, {simgrid::s4u::LinkInRoute(ba)}, false);
}

} // namespace pvsim
