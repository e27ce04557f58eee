/* pvsim model "device.parallel": an SSD-like device with internal parallelism: `channels` requests are served at
 * once (flash channels/dies, NVMe internal queues), the others wait in order; read and write service times come
 * from their own distributions (any form: deterministic, exponential, lognormal, empirical from a measured
 * histogram), so read/write asymmetry and heavy write tails show; with channel_rate set, a request also takes its
 * size / channel_rate (its transfer), so a 128 KiB read holds a channel longer than a 4 KiB one.
 * Leaves out: garbage collection, write caches, per-channel address mapping (any free channel serves any request). */
#pragma once

#include "sim/component.hpp"
#include "sim/fifo_servers.hpp"
#include "sim/params.hpp"

namespace pvsim {

struct ParallelDeviceParams {
  long long channels;
  Distribution read_service;
  std::optional<Distribution> write_service;
  double channel_rate_Bps; // 0: the service time does not depend on the size
};

class ParallelDevice : public Component, public FifoServers::Owner {
public:
  static constexpr const char* type_name = "device.parallel";
  static constexpr const char* summary   = "SSD-like device: internal parallelism, read/write service distributions.";
  using Params                           = ParallelDeviceParams;
  static const ParamTable<Params>& param_table();

  ParallelDevice(std::string name, const Params& p);
  void start(Simulation& sim) override;
  void submit(Request* r) override { servers_.arrive(r); }
  bool can_complete() const override { return true; }
  std::vector<QueueView> queues() const override { return {{name(), &servers_}}; }

private:
  double service_time(const Request* r) override;
  void served(Request* r) override { r->end_io(); }
  Params p_;
  FifoServers servers_;
  Rng rng_;
};

} // namespace pvsim
