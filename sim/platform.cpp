#include "sim/platform.hpp"

#include <simgrid/s4u/Host.hpp>
#include <simgrid/s4u/NetZone.hpp>

namespace pvsim {

simgrid::s4u::Host* Platform::add_host(const std::string& name, int cores, double speed_factor)
{
  auto* h = zone_->create_host(name, reference_flops * speed_factor);
  h->set_core_count(cores);
  return h;
}

} // namespace pvsim
