/* pvsim: the xenbus state machine of one end (frontend or backend) of a split driver.
 *
 * Models: the XenbusState values of include/xen/interface/io/xenbus.h, which transitions each end may take (from
 * the startup protocol of xen/include/public/io/blkif.h, netback's set_backend_state() diagram, blkfront/netfront
 * *_changed() handlers, xenbus_dev_resume(), xenbus_frontend_closed(), and the Reconfiguring/Reconfigured exchange
 * of netfront XDP, vscsi and pciback), and the history of transitions with the caller's (simulated) time.
 * Mirrors the "state" node into a XenStore when asked, as xenbus_switch_state() does.
 * Leaves out: watches and their delivery delays, xenbus_dev_fatal's error node, the toolstack's removal of nodes. */
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pvsim::xen {

class XenStore;

enum class XenbusState : int {
  Unknown       = 0,
  Initialising  = 1,
  InitWait      = 2, // finished early initialisation, waiting for the peer or the hotplug scripts
  Initialised   = 3, // initialised, waiting for a connection from the peer
  Connected     = 4,
  Closing       = 5, // being closed after an error or an unplug
  Closed        = 6,
  Reconfiguring = 7,
  Reconfigured  = 8,
};

/** Linux xenbus_strstate() names: "Initialising", "InitWait", ... */
std::string_view to_string(XenbusState state);
/** The numeric value as stored in XenStore ("4"). */
std::string state_value(XenbusState state);
/** Parses a XenStore "state" value ("4", or " 4"); nullopt for anything outside 0..8. */
std::optional<XenbusState> parse_xenbus_state(std::string_view value);

enum class XenbusRole { frontend, backend };

std::string_view to_string(XenbusRole role);

/** Whether `role` may go from `from` to `to`. Staying in the same state is not a transition (see switch_state). */
bool is_legal_transition(XenbusRole role, XenbusState from, XenbusState to);

struct XenbusTransition {
  double time;
  XenbusState from;
  XenbusState to;
};

class XenbusStateMachine {
public:
  /** `nodename` is the device directory whose "state" node this end owns (e.g. /local/domain/1/device/vbd/51712).
   * Devices start in Initialising: the toolstack creates both "state" nodes with that value. */
  explicit XenbusStateMachine(XenbusRole role, std::string nodename = "",
                              XenbusState initial = XenbusState::Initialising);

  XenbusRole role() const { return role_; }
  XenbusState state() const { return state_; }
  const std::string& nodename() const { return nodename_; }
  const std::vector<XenbusTransition>& history() const { return history_; }
  /** Time of the last recorded transition, or nullopt before the first one. */
  std::optional<double> last_change() const;

  bool can_switch(XenbusState to) const;
  /** Switches to `to` at `time` and records it. Like xenbus_switch_state(), asking for the current state does
   * nothing and succeeds. Returns false, changing nothing, for an illegal transition or a time earlier than the
   * last recorded one. */
  [[nodiscard]] bool switch_state(XenbusState to, double time);
  /** The same, also writing "<nodename>/state" into `store` on success. */
  [[nodiscard]] bool switch_state(XenbusState to, double time, XenStore& store);
  /** Adopts the state read from a tree (e.g. a parsed dump) without recording a transition. */
  void assume_state(XenbusState state) { state_ = state; }

private:
  XenbusRole role_;
  std::string nodename_;
  XenbusState state_;
  std::vector<XenbusTransition> history_;
};

} // namespace pvsim::xen
