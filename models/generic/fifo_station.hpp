/* pvsim model "station.fifo": a queueing station, c identical servers in front of one FIFO queue, with a service
 * time drawn from a distribution. After service a request goes to `next`, or completes when there is none.
 * This is the textbook G/G/c station used to prove the engine against queueing theory; driver models use the
 * same FifoServers block. Leaves out: priorities, other disciplines than first-come first-served. */
#pragma once

#include "sim/component.hpp"
#include "sim/fifo_servers.hpp"
#include "sim/params.hpp"

namespace pvsim {

struct FifoStationParams {
  long long servers;
  Distribution service;
  std::string next;
};

class FifoStation : public Component, public FifoServers::Owner {
public:
  static constexpr const char* type_name = "station.fifo";
  static constexpr const char* summary   = "FIFO queue with c servers and a service-time distribution.";
  using Params                           = FifoStationParams;
  static const ParamTable<Params>& param_table();

  FifoStation(std::string name, const Params& p);
  void start(Simulation& sim) override;
  void submit(Request* r) override { servers_.arrive(r); }
  bool can_complete() const override { return true; }
  std::vector<QueueView> queues() const override { return {{name(), &servers_}}; }

private:
  double service_time(const Request* r) override;
  void served(Request* r) override;
  Params p_;
  FifoServers servers_;
  Component* next_ = nullptr;
  Rng rng_;
};

} // namespace pvsim
