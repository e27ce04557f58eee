#include "models/workload/replay_trace.hpp"

namespace pvsim {

namespace {
std::map<std::string, ReplayTrace>& store()
{
  static std::map<std::string, ReplayTrace> traces;
  return traces;
}
} // namespace

void ReplayTraces::provide(const std::string& component, ReplayTrace trace)
{
  store()[component] = std::move(trace);
}

const ReplayTrace* ReplayTraces::find(const std::string& component)
{
  auto it = store().find(component);
  return it == store().end() ? nullptr : &it->second;
}

void ReplayTraces::clear()
{
  store().clear();
}

} // namespace pvsim
