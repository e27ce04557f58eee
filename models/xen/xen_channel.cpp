#include "models/xen/xen_channel.hpp"

#include <utility>

namespace pvsim::xen {

XenChannel::XenChannel(SharedRing ring, unsigned frontend_vcpu, unsigned backend_vcpu)
    : ring_(std::move(ring)), frontend_(frontend_vcpu), backend_(backend_vcpu)
{
}

void XenChannel::set_negotiated(std::vector<unsigned> ring_refs, unsigned frontend_evtchn, unsigned backend_evtchn)
{
  ring_refs_       = std::move(ring_refs);
  frontend_evtchn_ = frontend_evtchn;
  backend_evtchn_  = backend_evtchn;
}

bool XenChannel::push_requests(unsigned n)
{
  for (unsigned i = 0; i < n; ++i)
    ring_.produce_request();
  return ring_.push_requests_and_check_notify();
}

bool XenChannel::push_responses(unsigned n)
{
  for (unsigned i = 0; i < n; ++i)
    ring_.produce_response();
  return ring_.push_responses_and_check_notify();
}

void XenChannel::lateeoi_ack(End end)
{
  port(end).begin_handling_late_eoi();
}

bool XenChannel::lateeoi(End end)
{
  return port(end).late_eoi(); // a no-op returning false when no EOI is due (the reason is not held)
}

void XenChannel::track_stats(StatSet& set)
{
  ring_.track_stats(set);
  frontend_.track_stats(set);
  backend_.track_stats(set);
}

} // namespace pvsim::xen
