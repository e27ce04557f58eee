/* pvsim: loading a scenario file.
 *
 * A scenario is a JSON object:
 *   { "name": "...", "description": "...", "seed": 1, "duration": "2s", "warmup": "100ms",
 *     "components": { "<name>": { "type": "<model type>", <the model's parameters> }, ... },
 *     "groups": { "<group>": { "count": N, "components": { "<name with {i}>": {...}, ... } } } }
 * (groups: sim/scenario_groups.hpp; they are expanded into "components" before anything else is read)
 * `--set a.b.c=value` overrides are applied to the JSON before anything is read, so they are checked exactly like
 * the file (and recorded in the resolved scenario); one naming a component that a group makes
 * (`components.vd3.x=...`) is applied after the groups are expanded. */
#pragma once

#include "sim/json_node.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace pvsim {

struct ScenarioParams {
  long long format = 1;
  std::string name;
  std::string description;
  long long seed           = 1;
  double duration_s        = 0;
  double warmup_s          = 0;
  double sample_interval_s = 0;
};

struct ComponentDecl {
  std::string name;
  std::string type;
};

struct Scenario {
  std::string file;
  json document; // after --set overrides
  ScenarioParams params;
  std::vector<ComponentDecl> components;      // in the file's (sorted) key order
  std::map<std::string, std::string> origins; // component made by a group -> its template's JSON pointer
  std::map<std::string, std::map<std::string, std::string>> patched; // copy -> parameter -> "vary"/"copies" entry
  JsonNode component_node(const std::string& name) const
  {
    auto o = origins.find(name);
    return JsonNode(document.at("components").at(name), file,
                    o != origins.end() ? o->second : "/components/" + pointer_token(name));
  }
};

/** Parses JSON text; a syntax error becomes an InputError naming the file, line and column. */
json parse_json_text(const std::string& text, const std::string& file);
/** Reads and parses a JSON file. */
json read_json_file(const std::string& path, const std::string& what = "JSON file");

/** Applies one "dotted.path=value" override (value parsed as JSON, else taken as a string). */
void apply_override(json& doc, const std::string& assignment);

/** Loads, applies overrides and an optional seed, checks the top level (not the components' parameters). */
Scenario load_scenario(const std::string& path, const std::vector<std::string>& overrides = {},
                       std::optional<std::uint64_t> seed = std::nullopt);
Scenario scenario_from_json(json doc, const std::string& file);

} // namespace pvsim
