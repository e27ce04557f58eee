#include "sim/registry.hpp"

#include <stdexcept>

namespace pvsim {

Registry& Registry::builtin()
{
  static Registry r;
  return r;
}

void Registry::add(ModelInfo info)
{
  if (models_.count(info.type))
    throw std::logic_error("model type registered twice: " + info.type);
  std::string key = info.type;
  models_.emplace(std::move(key), std::move(info));
}

const ModelInfo* Registry::find(const std::string& type) const
{
  auto it = models_.find(type);
  return it == models_.end() ? nullptr : &it->second;
}

std::vector<std::string> Registry::types() const
{
  std::vector<std::string> out;
  for (const auto& [k, v] : models_)
    out.push_back(k);
  return out;
}

} // namespace pvsim
