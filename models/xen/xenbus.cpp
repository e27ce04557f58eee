#include "models/xen/xenbus.hpp"

#include "models/xen/xenstore.hpp"

namespace pvsim::xen {

std::string_view to_string(XenbusState state)
{
  switch (state) {
    case XenbusState::Unknown: return "Unknown";
    case XenbusState::Initialising: return "Initialising";
    case XenbusState::InitWait: return "InitWait";
    case XenbusState::Initialised: return "Initialised";
    case XenbusState::Connected: return "Connected";
    case XenbusState::Closing: return "Closing";
    case XenbusState::Closed: return "Closed";
    case XenbusState::Reconfiguring: return "Reconfiguring";
    case XenbusState::Reconfigured: return "Reconfigured";
  }
  return "Invalid";
}

std::string state_value(XenbusState state)
{
  return std::to_string(static_cast<int>(state));
}

std::optional<XenbusState> parse_xenbus_state(std::string_view value)
{
  while (not value.empty() && (value.front() == ' ' || value.front() == '\t'))
    value.remove_prefix(1);
  while (not value.empty() && (value.back() == ' ' || value.back() == '\t' || value.back() == '\n'))
    value.remove_suffix(1);
  if (value.size() != 1 || value[0] < '0' || value[0] > '8')
    return std::nullopt;
  return static_cast<XenbusState>(value[0] - '0');
}

std::string_view to_string(XenbusRole role)
{
  return role == XenbusRole::frontend ? "frontend" : "backend";
}

bool is_legal_transition(XenbusRole role, XenbusState from, XenbusState to)
{
  using S = XenbusState;
  if (from == to)
    return false;
  // Both ends, any state: xenbus_dev_fatal() switches to Closing; xenbus_frontend_closed() (blkfront_closing,
  // netfront) and blkback/netback frontend_changed(Closed) switch straight to Closed.
  if ((to == S::Closing && from != S::Closed && from != S::Unknown) || (to == S::Closed && from != S::Unknown))
    return true;
  // The toolstack creates the node in Initialising; a Closed device may be removed.
  if (from == S::Unknown)
    return to == S::Initialising;
  if (to == S::Unknown)
    return from == S::Closed;

  if (role == XenbusRole::frontend) {
    switch (from) {
      case S::Initialising:
        // blkfront talk_to_blkback() -> Initialised; netfront netback_changed(InitWait) -> Connected directly
        // (blkif.h: "A frontend may transition to XenbusStateInitialised without waiting" and may skip states).
        return to == S::Initialised || to == S::Connected;
      case S::Initialised:
        return to == S::Connected /* blkfront_connect() */ || to == S::Initialising /* xenbus_dev_resume() */;
      case S::Connected:
        // xenbus_dev_resume() resets to Initialising after suspend/migration; netfront xennet_xdp_set() and
        // vscsifront use Reconfiguring.
        return to == S::Initialising || to == S::Reconfiguring;
      case S::Reconfiguring:
        return to == S::Connected; // netfront after the backend answered Reconfigured
      case S::Closed:
        return to == S::Initialising; // reconnect (blkback frontend_changed: "prepare for reconnect")
      default:
        return false; // a frontend never publishes InitWait or Reconfigured
    }
  }
  switch (from) {
    case S::Initialising:
      // xen_blkbk_probe()/netback_probe() -> InitWait; blkif.h also lets a backend go to Initialised directly.
      return to == S::InitWait || to == S::Initialised;
    case S::InitWait:
      return to == S::Connected /* blkback connect(), netback set_backend_state() */ || to == S::Initialised;
    case S::Initialised:
      return to == S::Connected;
    case S::Connected:
      // netback/scsiback answer a frontend's Reconfiguring with Reconfigured; pciback is told Reconfiguring by the
      // toolstack.
      return to == S::Reconfigured || to == S::Reconfiguring;
    case S::Reconfiguring:
      return to == S::Reconfigured; // pciback xen_pcibk_reconfigure()
    case S::Reconfigured:
      return to == S::Connected;
    case S::Closing:
      return false; // only Closed, handled above
    case S::Closed:
      // netback set_backend_state() goes Closed -> InitWait (reconnect, also blkback) and Closed -> Closing.
      return to == S::InitWait || to == S::Closing;
    default:
      return false;
  }
}

XenbusStateMachine::XenbusStateMachine(XenbusRole role, std::string nodename, XenbusState initial)
    : role_(role), nodename_(std::move(nodename)), state_(initial)
{
}

std::optional<double> XenbusStateMachine::last_change() const
{
  if (history_.empty())
    return std::nullopt;
  return history_.back().time;
}

bool XenbusStateMachine::can_switch(XenbusState to) const
{
  return to == state_ || is_legal_transition(role_, state_, to);
}

bool XenbusStateMachine::switch_state(XenbusState to, double time)
{
  if (to == state_)
    return true;
  if (not is_legal_transition(role_, state_, to))
    return false;
  if (not history_.empty() && time < history_.back().time)
    return false;
  history_.push_back({time, state_, to});
  state_ = to;
  return true;
}

bool XenbusStateMachine::switch_state(XenbusState to, double time, XenStore& store)
{
  if (to == state_)
    return true; // xenbus_switch_state() returns early and writes nothing
  if (not switch_state(to, time))
    return false;
  if (not nodename_.empty())
    store.write(nodename_ + "/state", state_value(state_));
  return true;
}

} // namespace pvsim::xen
