/* pvsim: what a queueing place inside a model exposes to the statistics and to the conservation check: its events
 * (arrive, start service, depart), its number of servers (or tags, or slots) and its occupancy. */
#pragma once

#include "sim/statistics.hpp"

#include <cstdint>

namespace pvsim {

/** Counters of one request-holding place, for the conservation check (issued = completed + in flight). */
struct Occupancy {
  std::uint64_t issued    = 0; // requests that entered
  std::uint64_t completed = 0; // requests that left
  std::uint64_t in_flight = 0; // counted from the model's own structures, independently of the two above
};

class Station {
public:
  virtual ~Station()                               = default;
  virtual const Probe<StationEvent>& probe() const = 0;
  virtual int servers() const                      = 0;
  virtual Occupancy occupancy() const              = 0;
};

} // namespace pvsim
