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
  void connect(Slot slot) const { slots_.push_back(std::move(slot)); }
  void emit(const Event& ev) const
  {
    for (const auto& s : slots_)
      s(ev);
  }
  bool connected() const { return not slots_.empty(); }

private:
  mutable std::vector<Slot> slots_;
};

} // namespace pvsim
