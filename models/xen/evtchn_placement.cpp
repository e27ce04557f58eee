/* pvsim: event-channel vCPU placement policies (see evtchn_placement.hpp). */
#include "models/xen/evtchn_placement.hpp"

#include <algorithm>
#include <stdexcept>

namespace pvsim::xen {

const std::vector<std::string>& EvtchnPlacement::policies()
{
  static const std::vector<std::string> names{"default", "balance", "cpu0", "spread"};
  return names;
}

std::string EvtchnPlacement::resolve(const std::string& policy, const KernelVersion& kernel)
{
  if (policy != "default")
    return policy;
  return kernel.before(5, 11) ? "cpu0" : "balance"; // 88f0a9d06644 (5.11) ended the forced CPU#0 mask
}

EvtchnPlacement::EvtchnPlacement(const std::string& policy, const KernelVersion& kernel, int vcpus, int preceding)
    : policy_(resolve(policy, kernel)), vcpus_(vcpus), balance_(vcpus, policy_ == "balance" ? preceding : 0)
{
  const auto& known = policies();
  if (std::find(known.begin(), known.end(), policy) == known.end())
    throw std::invalid_argument("unknown event-channel placement '" + policy + "'");
}

unsigned EvtchnPlacement::bind(unsigned queue)
{
  if (policy_ == "balance")
    return static_cast<unsigned>(balance_.bind());
  if (policy_ == "spread")
    return queue % static_cast<unsigned>(vcpus_);
  return 0; // cpu0
}

} // namespace pvsim::xen
