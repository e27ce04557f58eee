/* pvsim: typed events from models to collectors.
 *
 * A model owns one Probe per kind of event it emits and calls emit(); collectors (statistics, tracers) connect
 * to it. Like SimGrid's xbt::signal, but with no allocation on emit and nothing to do when no one listens. */
#pragma once

#include <functional>
#include <vector>

namespace pvsim {

template <class Event>
class Probe {
public:
  using Slot = std::function<void(const Event&)>;
  /** Observing does not change the model: collectors may connect to a const probe. */
  void connect(Slot slot) const
  {
    if (not slot)
      return;
    if (not connected_)
      first_ = std::move(slot);
    else
      more_.push_back(std::move(slot));
    connected_ = true;
  }
  void emit(const Event& ev) const
  {
    if (not connected_)
      return;
    first_(ev);
    for (const auto& s : more_)
      s(ev);
  }
  bool connected() const { return connected_; }

private:
  // The first collector (usually the only one) sits in the probe itself: an emit reaches it without a trip through a
  // separate array, which with thousands of queues is a cache miss per event. Whether any is connected is a flag in
  // the probe's first bytes: an unobserved probe costs the owner one byte of its hot cache line, not a test of the
  // std::function's manager 16 bytes on, often on the next line.
  mutable bool connected_ = false;
  mutable Slot first_;
  mutable std::vector<Slot> more_;
};

} // namespace pvsim
