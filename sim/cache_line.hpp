/* pvsim: a cache line written from several cores (a lock word, a ring's producer index, a tag bitmap word).
 *
 * A written line lives in the cache of the core that wrote it last; a write from another core must first fetch it
 * (a coherence transfer: the line's new owner waits for it, the old copy is invalidated). So a line written by one
 * core costs nothing more, and a line whose writer changes costs one transfer per change: with W cores writing in
 * random order, (W - 1) / W transfers per write; with 2 cores strictly alternating, one per write. The transfer costs
 * more between sockets than inside one (the line crosses the interconnect).
 * Costs, measured as the median compare-and-swap round trip between two cores (nviennot/core-to-core-latency,
 * README: Xeon E5-2695 v4 Broadwell-EP 44 ns inside a socket, 118 ns across; Cascade Lake 8275CL 47 / 134 ns); the
 * defaults follow the Haswell/Broadwell-EP hosts of the 2015 Xen multi-queue measurements.
 * Leaves out: reads (a reader also fetches a line written elsewhere, then shares it: only writes are charged), the
 * line's state beyond its owner (MESI's shared copies), false sharing between unrelated fields (a model says which
 * fields share a line), SMT siblings (a transfer between them is ~8 ns: same core here, free). */
#pragma once

#include "sim/stats.hpp"

namespace pvsim {

/** Where a thread's work runs, for the cost of moving a line to it: a machine-wide core number and its socket. */
struct CorePlace {
  int core                                = -1; // -1: not placed (never pays a transfer)
  int socket                              = 0;
  bool operator==(const CorePlace&) const = default;
};

/** What moving a written line between two cores costs. */
struct LineCost {
  double same_socket_s  = 45e-9;
  double cross_socket_s = 120e-9;
  /** The cost of moving a line written on `from` to `to` (0 when either is unplaced or they are one core). */
  double between(CorePlace from, CorePlace to) const
  {
    if (from.core < 0 or to.core < 0 or from.core == to.core)
      return 0;
    return from.socket == to.socket ? same_socket_s : cross_socket_s;
  }
};

class CacheLine {
public:
  /** A write from `who`: returns the time its core waits for the line (0 when it already owns it), and counts the
   * transfer. */
  double write(CorePlace who, const LineCost& cost)
  {
    double t = cost.between(owner_, who);
    if (t > 0)
      ++transfers_;
    owner_ = who;
    return t;
  }
  Counter& stat_transfers() { return transfers_; }
  std::uint64_t transfers() const { return transfers_.get(); }

private:
  CorePlace owner_;
  Counter transfers_;
};

} // namespace pvsim
