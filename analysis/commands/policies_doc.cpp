#include "analysis/commands/policies_doc.hpp"

#include "models/linux/blk_mq_map.hpp"
#include "models/qemu/aio_engine.hpp"
#include "models/qemu/aio_sizing.hpp"
#include "models/qemu/drain_policy.hpp"
#include "sim/sched_policy.hpp"

#include <sstream>

namespace pvsim {

std::string policies_documentation()
{
  std::ostringstream out;
  out << "Choices inside the models (a parameter names one; each reads the parameters listed):\n\n";
  out << "qemu.iothread aio= (AIO engines, models/qemu/aio_engine.hpp):\n";
  for (const auto& n : aio_engine_names())
    out << "    " << n << ": " << aio_engine_summary(n) << "\n";
  out << "\nqemu.iothread sizing= (AIO queue sizing, models/qemu/aio_sizing.hpp):\n";
  for (const auto& n : aio_sizing_names()) {
    const AioSizingInfo* info = aio_sizing_info(n);
    out << "    " << n << ": " << info->summary << " [reads: " << info->params << "]\n";
  }
  out << "\nqemu.migration policy= (migration drain policies, models/qemu/drain_policy.hpp):\n";
  for (const auto& n : drain_policy_names()) {
    const DrainPolicyInfo* info = drain_policy_info(n);
    out << "    " << n << ": " << info->summary << " [reads: " << (info->params.empty() ? "nothing" : info->params)
        << "; source: " << info->source << "]\n";
  }
  out << "\nblk_mq queue_map= (CPU to hardware queue maps, models/linux/blk_mq_map.hpp):\n";
  for (const auto& n : queue_map_policy_names())
    out << "    " << n << ": " << queue_map_policy_summary(n) << "\n";
  out << "\ncpu.host scheduler= (CPU schedulers of a pool of cores, sim/core_scheduler.hpp, "
         "models/host/sched_*.cpp):\n";
  for (const auto& [n, info] : sched_policies().entries())
    out << "    " << n << ": " << info.summary << " [source: " << info.source << "]\n";
  return out.str();
}

} // namespace pvsim
