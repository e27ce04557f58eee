/* pvsim model "device.null_blk": Linux's null_blk in timer mode (irqmode=2): every request completes a fixed
 * time after it is dispatched, and at most hw_queue_depth requests per hardware queue are in the device (its
 * blk-mq tags); the others wait in order. A request goes to hardware queue (request queue index mod
 * submit_queues), 0 when no upstream model chose one.
 * Leaves out: the CPU cost of null_blk's submission path, memory backing, zoned mode, bandwidth throttling. */
#pragma once

#include "models/linux/block_driver.hpp"
#include "sim/component.hpp"
#include "sim/fifo_servers.hpp"
#include "sim/params.hpp"
#include "sim/pinned_array.hpp"

namespace pvsim {

struct NullBlkParams {
  double completion_latency_s;
  long long hw_queue_depth;
  long long submit_queues;
};

class NullBlk : public Component, public FifoServers::Owner, public BlockDriver {
public:
  static constexpr const char* type_name = "device.null_blk";
  static constexpr const char* summary   = "Linux null_blk (timer mode): fixed completion latency, tag-limited queues.";
  using Params                           = NullBlkParams;
  static const ParamTable<Params>& param_table();

  NullBlk(std::string name, const Params& p);
  void start(Simulation& sim) override;
  void submit(Request* r) override;
  bool can_complete() const override { return true; }
  std::vector<QueueView> queues() const override;
  int nr_hw_queues() const override { return static_cast<int>(p_.submit_queues); }
  int queue_depth() const override { return static_cast<int>(p_.hw_queue_depth); }
  void queue_rq(Request* r) override { submit(r); }

private:
  double service_time(const Request*) override { return p_.completion_latency_s; }
  void served(Request* r) override { r->end_io(); }
  Params p_;
  PinnedArray<FifoServers> hctx_;
};

} // namespace pvsim
