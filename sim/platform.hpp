/* pvsim: the simulated platform: physical CPUs as SimGrid hosts with cores.
 *
 * Components that are physical resources create their hosts during build_platform(), before the platform is
 * sealed. Every host runs at 1e9 flop/s times its speed factor, so a CPU cost of t seconds (at the reference speed)
 * is t * 1e9 flops: alone on a core it takes t, with more runnable threads than cores SimGrid shares the cores. */
#pragma once

#include <cstdint>
#include <string>

namespace simgrid::s4u {
class Host;
class NetZone;
} // namespace simgrid::s4u

namespace pvsim {

class Platform {
public:
  static constexpr double reference_flops = 1e9;

  Platform(simgrid::s4u::NetZone* zone, std::uint64_t seed) : zone_(zone), seed_(seed) {}
  /** The run's seed, for physical resources that draw random numbers (a host's preemptions). */
  std::uint64_t seed() const { return seed_; }
  simgrid::s4u::Host* add_host(const std::string& name, int cores, double speed_factor);
  /** Numbers `n` cores machine-wide (for cache-line transfers between pools): returns the first one's number. */
  int number_cores(int n)
  {
    int first = cores_numbered_;
    cores_numbered_ += n;
    return first;
  }
  /** A full-duplex link between two hosts (one SimGrid link per direction), for models that move data over
   * SimGrid's network model (CM02, set by the engine: exact latencies). */
  void add_duplex_link(const std::string& name, simgrid::s4u::Host* a, simgrid::s4u::Host* b, double bandwidth_Bps,
                       double latency_s);

private:
  simgrid::s4u::NetZone* zone_;
  std::uint64_t seed_;
  int cores_numbered_ = 0;
};

} // namespace pvsim
