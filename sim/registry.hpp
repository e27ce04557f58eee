/* pvsim: the factory registry. A scenario's "type" names a model; the registry builds it.
 *
 * Every model registers itself in its own .cpp with PVSIM_REGISTER_MODEL(Class), like SST's component
 * registration: adding a model touches no other file, and nothing switches over type names. A model class
 * provides:
 *   static constexpr const char* type_name;   // "device.null_blk"
 *   static constexpr const char* summary;     // one line for `pvsim models` and the schema
 *   using Params = ...;                        // its typed parameters
 *   static const ParamTable<Params>& param_table();
 *   Class(std::string name, const Params& p);  */
#pragma once

#include "sim/component.hpp"
#include "sim/params.hpp"

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace pvsim {

struct ModelInfo {
  std::string type;
  std::string summary;
  std::function<std::unique_ptr<Component>(const std::string& name, const JsonNode& node)> build;
  std::function<json()> schema;
  std::function<std::vector<ParamDoc>()> docs;
};

class Registry {
public:
  /** The models compiled into pvsim. */
  static Registry& builtin();
  void add(ModelInfo info);
  const ModelInfo* find(const std::string& type) const;
  std::vector<std::string> types() const;

private:
  std::map<std::string, ModelInfo> models_;
};

template <class M>
ModelInfo model_info()
{
  ModelInfo info;
  info.type    = M::type_name;
  info.summary = M::summary;
  info.build   = [](const std::string& name, const JsonNode& node) -> std::unique_ptr<Component> {
    const auto& table    = M::param_table();
    typename M::Params p = table.parse(node, {"type"});
    auto c               = std::make_unique<M>(name, p);
    for (auto& [port, target, required, resource] : table.refs(p))
      c->add_port(Port{port, target, required, nullptr, resource});
    c->set_resolved_params(table.write(p));
    c->set_origin(node.file(), node.pointer());
    return c;
  };
  info.schema = [] { return M::param_table().schema(); };
  info.docs   = [] { return M::param_table().docs(); };
  return info;
}

template <class M>
struct Registrar {
  Registrar() { Registry::builtin().add(model_info<M>()); }
};

} // namespace pvsim

#define PVSIM_REGISTER_MODEL(M) static const ::pvsim::Registrar<M> pvsim_registrar_##M
