#include "models/linux/blk_mq_map.hpp"

#include "sim/input_error.hpp"
#include "sim/named_registry.hpp"

#include <algorithm>
#include <map>
#include <stdexcept>

namespace pvsim {

QueueMapPolicy::~QueueMapPolicy() = default;

void check_queues(int nr_hw_queues)
{
  if (nr_hw_queues < 1)
    throw std::invalid_argument("blk-mq queue map: need at least one hardware queue, got " +
                                std::to_string(nr_hw_queues));
}

std::string QueueMapOrigin::at(const std::string& key) const
{
  return where + "/" + pointer_token(key);
}

namespace {

/* ---------------------------------------------------------------------------------------------------------------
 * The registry: name -> factory, filled by the registrars below before main(). */

NamedRegistry<QueueMapPolicyInfo>& policy_registry()
{
  static NamedRegistry<QueueMapPolicyInfo> registry("queue map policy");
  return registry;
}

} // namespace

void register_queue_map_policy(QueueMapPolicyInfo info)
{
  policy_registry().add(std::move(info));
}

std::vector<std::string> queue_map_policy_names()
{
  return policy_registry().names();
}

std::string queue_map_policy_summary(const std::string& name)
{
  const QueueMapPolicyInfo* info = policy_registry().find(name);
  return info == nullptr ? std::string() : info->summary;
}

std::unique_ptr<QueueMapPolicy> make_queue_map_policy(const std::string& name, const nlohmann::json& options,
                                                      const QueueMapOrigin& origin)
{
  const QueueMapPolicyInfo* found = policy_registry().find(name);
  if (found == nullptr)
    throw InputError(origin.file, origin.where, policy_registry().unknown(name));
  const QueueMapPolicyInfo& info = *found;
  nlohmann::json opts            = options.is_null() ? nlohmann::json::object() : options;
  if (not opts.is_object())
    throw InputError(origin.file, origin.where,
                     "expected an object of options for queue map policy '" + name + "', found " + opts.type_name());
  for (const auto& [key, value] : opts.items())
    if (std::find(info.options.begin(), info.options.end(), key) == info.options.end())
      throw InputError(origin.file, origin.at(key),
                       "unknown option '" + key + "' for queue map policy '" + name + "'" +
                           (info.options.empty() ? std::string(" (it takes none)") : did_you_mean(key, info.options)));
  return info.make(opts, origin);
}

/* ---------------------------------------------------------------------------------------------------------------
 * Views of a map. */

std::vector<std::vector<int>> cpus_of_queue(const std::vector<int>& map, int nr_hw_queues)
{
  check_queues(nr_hw_queues);
  std::vector<std::vector<int>> out(nr_hw_queues);
  for (std::size_t cpu = 0; cpu < map.size(); ++cpu) {
    if (map[cpu] < 0 or map[cpu] >= nr_hw_queues)
      throw std::invalid_argument("cpus_of_queue: CPU " + std::to_string(cpu) + " is on queue " +
                                  std::to_string(map[cpu]) + ", outside [0, " + std::to_string(nr_hw_queues) + ")");
    out[map[cpu]].push_back(static_cast<int>(cpu));
  }
  return out;
}

std::vector<int> managed_irq_cpus(const std::vector<std::vector<int>>& queue_cpus, int cpus)
{
  std::vector<int> managed(static_cast<std::size_t>(std::max(cpus, 0)), 0), out;
  for (const auto& mask : queue_cpus) {
    int best = -1;
    for (int c : mask)
      if (c >= 0 and c < cpus and
          (best < 0 or managed[static_cast<std::size_t>(c)] <= managed[static_cast<std::size_t>(best)]))
        best = c;
    if (best >= 0)
      managed[static_cast<std::size_t>(best)]++;
    out.push_back(best);
  }
  return out;
}

} // namespace pvsim
