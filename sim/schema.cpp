#include "sim/schema.hpp"

#include "sim/registry.hpp"
#include "sim/scenario.hpp"

#include <sstream>

namespace pvsim {

namespace {
json duration_props(const std::string& base, const std::string& doc)
{
  json p = json::object();
  for (const auto& k : quantity_keys(base, Dimension::duration))
    p[k] = k == base ? json{{"type", "string"}, {"description", doc + " (with a unit, e.g. \"2s\")"}}
                     : json{{"type", "number"}, {"minimum", 0}, {"description", doc}};
  return p;
}

json distribution_schema()
{
  json dur     = {{"type", "string"}, {"pattern", "^\\s*[0-9.eE+-]+\\s*(ns|us|µs|ms|s|sec|min)\\s*$"}};
  json num     = {{"type", "number"}, {"minimum", 0}};
  json numlist = {{"type", "array"}, {"items", num}};
  json strlist = {{"type", "array"}, {"items", dur}};
  json props   = {{"dist", {{"enum", {"deterministic", "exponential", "lognormal", "uniform", "empirical"}}}},
                  {"cv", num},
                  {"sigma", num},
                  {"counts", numlist}};
  for (const char* base : {"value", "mean", "median", "min", "max"}) {
    props[base] = dur;
    for (const char* s : {"_s", "_ms", "_us", "_ns"})
      props[std::string(base) + s] = num;
  }
  for (const char* base : {"edges", "values"}) {
    props[base] = strlist;
    for (const char* s : {"_s", "_ms", "_us", "_ns"})
      props[std::string(base) + s] = numlist;
  }
  return {
      {"description", "A duration distribution: a duration string (deterministic) or an object with \"dist\"."},
      {"oneOf",
       {dur, {{"type", "object"}, {"required", {"dist"}}, {"properties", props}, {"additionalProperties", false}}}}};
}
} // namespace

json scenario_schema()
{
  const auto& reg      = Registry::builtin();
  json defs            = json::object();
  defs["distribution"] = distribution_schema();
  json all_of          = json::array();
  json types           = json::array();
  for (const auto& type : reg.types()) {
    const ModelInfo* info     = reg.find(type);
    json s                    = info->schema();
    s["type"]                 = "object";
    s["description"]          = info->summary;
    s["properties"]["type"]   = {{"const", type}};
    s["additionalProperties"] = false;
    defs[type]                = s;
    types.push_back(type);
    all_of.push_back({{"if", {{"properties", {{"type", {{"const", type}}}}}, {"required", {"type"}}}},
                      {"then", {{"$ref", "#/$defs/" + type}}}});
  }
  defs["component"] = {{"type", "object"},
                       {"required", {"type"}},
                       {"properties", {{"type", {{"enum", types}, {"description", "The model (see pvsim models)."}}}}},
                       {"allOf", all_of}};
  json props        = {{"$schema", {{"type", "string"}}},
                       {"pvsim", {{"const", 1}, {"description", "Scenario format version."}}},
                       {"name", {{"type", "string"}}},
                       {"description", {{"type", "string"}}},
                       {"seed", {{"type", "integer"}, {"minimum", 0}}},
                       {"components",
                        {{"type", "object"},
                         {"minProperties", 1},
                         {"description", "Named components; each one's \"type\" selects its model."},
                         {"additionalProperties", {{"$ref", "#/$defs/component"}}}}},
                       {"groups",
                        {{"type", "object"},
                         {"description", "Groups of components made `count` times: \"{i}\" in a name or a string "
                                                "becomes the copy's index, \"{n}\" the count (--set groups.G.count=N); "
                                                "\"vary\" and \"copies\" make copies differ."},
                         {"additionalProperties",
                          {{"type", "object"},
                           {"required", {"count", "components"}},
                           {"additionalProperties", false},
                           {"properties",
                            {{"count", {{"type", "integer"}, {"minimum", 1}, {"maximum", 4096}}},
                             {"components",
                              {{"type", "object"},
                               {"minProperties", 1},
                               {"additionalProperties", {{"$ref", "#/$defs/component"}}}}},
                             {"vary",
                              {{"type", "object"},
                               {"description", "\"COMPONENT.PARAMETER\" of the template -> values: copy i takes "
                                               "value i modulo their number."},
                               {"propertyNames", {{"pattern", "^[^.]+\\.[^.].*$"}}},
                               {"additionalProperties", {{"type", "array"}, {"minItems", 1}}}}},
                             {"copies",
                              {{"type", "object"},
                               {"description", "Copies (\"3\", \"2-5\", \"0,4,8-11\") -> a merge patch of their "
                                               "components (null removes; a component the template lacks, with "
                                               "its \"type\", is added to them)."},
                               {"propertyNames", {{"pattern", "^[0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*$"}}},
                               {"additionalProperties",
                                {{"type", "object"},
                                 {"additionalProperties", {{"type", {"object", "null"}}}}}}}}}}}}}}};
  props.update(duration_props("duration", "Simulated time"));
  props.update(duration_props("warmup", "Warm-up excluded from statistics"));
  json duration_required = json::array();
  for (const auto& k : quantity_keys("duration", Dimension::duration))
    duration_required.push_back({{"required", {k}}});
  return {{"$schema", "https://json-schema.org/draft/2020-12/schema"},
          {"$id", "https://pvsim.invalid/scenarios/schema.json"},
          {"title", "pvsim scenario"},
          {"description", "Generated by `pvsim schema` from the models' parameter tables; do not edit by hand."},
          {"type", "object"},
          {"required", {"components"}},
          {"anyOf", duration_required},
          {"properties", props},
          {"additionalProperties", false},
          {"$defs", defs}};
}

std::string models_documentation()
{
  std::ostringstream out;
  const auto& reg = Registry::builtin();
  for (const auto& type : reg.types()) {
    const ModelInfo* info = reg.find(type);
    out << type << ": " << info->summary << "\n";
    for (const auto& d : info->docs()) {
      out << "    " << d.name << " (" << d.kind << ")";
      if (d.required)
        out << ", required";
      else if (not d.default_value.is_null())
        out << ", default " << d.default_value.dump()
            << (d.kind == "duration"    ? " s"
                : d.kind == "size"      ? " bytes"
                : d.kind == "frequency" ? " Hz"
                : d.kind == "bandwidth" ? " B/s"
                                        : "");
      out << ": " << d.doc;
      if (not d.default_from.empty())
        out << " [default from: " << d.default_from << "]";
      out << "\n";
    }
    out << "\n";
  }
  return out.str();
}

} // namespace pvsim
