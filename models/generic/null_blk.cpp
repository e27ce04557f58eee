#include "models/generic/null_blk.hpp"

#include "sim/registry.hpp"
#include "sim/simulation.hpp"

namespace pvsim {

const ParamTable<NullBlkParams>& NullBlk::param_table()
{
  static const ParamTable<Params> t = [] {
    ParamTable<Params> tb(type_name);
    tb.quantity("completion_latency", Dimension::duration, &Params::completion_latency_s, 10e-6, 0, 1e3,
                "Time from dispatch to completion of every request.",
                "null_blk completion_nsec=10000 (drivers/block/null_blk/main.c)")
        .integer("hw_queue_depth", &Params::hw_queue_depth, 64, 1, 1 << 20,
                 "Tags (requests in the device) per hardware queue.", "null_blk hw_queue_depth=64")
        .integer("submit_queues", &Params::submit_queues, 1, 1, 4096, "Hardware queues.",
                 "null_blk submit_queues=1 (g_submit_queues)");
    return tb;
  }();
  return t;
}

NullBlk::NullBlk(std::string name, const Params& p) : Component(std::move(name), type_name), p_(p)
{
  hctx_.reset(static_cast<std::size_t>(p.submit_queues)); // 1..4096 (the param table)
  for (long long i = 0; i < p.submit_queues; ++i)
    hctx_.emplace_back(*this, static_cast<int>(p.hw_queue_depth));
}

void NullBlk::start(Simulation& sim)
{
  for (auto& h : hctx_)
    h.attach(sim.events());
}

void NullBlk::submit(Request* r)
{
  std::size_t q = r->queue < 0 ? 0 : static_cast<std::size_t>(r->queue) % hctx_.size();
  hctx_[q].arrive(r);
}

std::vector<QueueView> NullBlk::queues() const
{
  if (hctx_.size() == 1)
    return {{name(), &hctx_[0]}};
  std::vector<QueueView> out;
  for (std::size_t i = 0; i < hctx_.size(); ++i)
    out.push_back({name() + ".hctx" + std::to_string(i), &hctx_[i]});
  return out;
}

PVSIM_REGISTER_MODEL(NullBlk);

} // namespace pvsim
