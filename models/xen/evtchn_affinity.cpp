/* pvsim: Linux's event-channel vCPU choice (see evtchn_affinity.hpp). */
#include "models/xen/evtchn_affinity.hpp"

#include <stdexcept>

namespace pvsim::xen {

EvtchnAffinity::EvtchnAffinity(int vcpus, int preceding)
{
  if (vcpus < 1)
    throw std::invalid_argument("EvtchnAffinity: at least one vCPU");
  channels_.assign(static_cast<std::size_t>(vcpus), 0);
  for (int i = 0; i < preceding; ++i)
    bind();
}

int EvtchnAffinity::bind()
{
  channels_[0]++; // bind_evtchn_to_cpu(evtchn, 0): every channel starts on vCPU 0
  int best = 0;
  for (std::size_t c = 1; c < channels_.size(); ++c)
    if (channels_[c] < channels_[static_cast<std::size_t>(best)])
      best = static_cast<int>(c);
  channels_[0]--;
  channels_[static_cast<std::size_t>(best)]++;
  return best;
}

} // namespace pvsim::xen
