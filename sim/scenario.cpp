#include "sim/scenario.hpp"

#include "sim/input_file.hpp"
#include "sim/params.hpp"
#include "sim/registry.hpp"
#include "sim/scenario_groups.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

namespace pvsim {

namespace {
const ParamTable<ScenarioParams>& scenario_table()
{
  static const ParamTable<ScenarioParams> t = [] {
    ParamTable<ScenarioParams> tb("a scenario");
    tb.integer("pvsim", &ScenarioParams::format, 1, 1, 1, "Scenario format version.")
        .text("name", &ScenarioParams::name, "", "Short name of the scenario.")
        .text("description", &ScenarioParams::description, "", "What the scenario shows.")
        .integer("seed", &ScenarioParams::seed, 1, 0, std::numeric_limits<long long>::max(),
                 "Seed of every random stream (overridden by --seed).")
        .quantity("duration", Dimension::duration, &ScenarioParams::duration_s, std::nullopt, 1e-9, 1e9,
                  "Simulated time; jobs stop issuing at this time.")
        .quantity("warmup", Dimension::duration, &ScenarioParams::warmup_s, 0.0, 0, 1e9,
                  "Statistics start after this much simulated time.")
        .quantity("sample_interval", Dimension::duration, &ScenarioParams::sample_interval_s, 0.0, 0, 1e9,
                  "Every this much simulated time after warm-up, record each queue's occupancy (0: no time series).")
        .check([](const ScenarioParams& p, const JsonNode& n) {
          if (p.warmup_s >= p.duration_s)
            n.fail("'warmup' (" + json(p.warmup_s).dump() + " s) must be shorter than 'duration' (" +
                   json(p.duration_s).dump() + " s)");
        });
    return tb;
  }();
  return t;
}
} // namespace

json parse_json_text(const std::string& text, const std::string& file)
{
  try {
    return json::parse(text);
  } catch (const json::parse_error& e) {
    std::size_t line = 1, col = 1;
    for (std::size_t i = 0; i < e.byte - (e.byte > 0 ? 1 : 0) and i < text.size(); ++i) {
      if (text[i] == '\n') {
        line++;
        col = 1;
      } else {
        col++;
      }
    }
    std::string what = e.what();
    auto pos         = what.find("syntax error");
    throw InputError(file, "line " + std::to_string(line) + ", column " + std::to_string(col),
                     "malformed JSON: " + (pos == std::string::npos ? what : what.substr(pos)));
  } catch (const json::exception& e) { // out_of_range.406: a number too large for a double
    throw InputError(file, "", "malformed JSON: " + json_error_text(e) + " (numbers must fit a double)");
  }
}

json read_json_file(const std::string& path, const std::string& what)
{
  return parse_json_text(read_input_text(path, what, 64 * MiB), path);
}

void apply_override(json& doc, const std::string& assignment)
{
  auto eq = assignment.find('=');
  if (eq == std::string::npos or eq == 0)
    throw InputError("--set", assignment, "expected path=value, e.g. components.disk.channels=8");
  std::string path  = assignment.substr(0, eq);
  std::string value = assignment.substr(eq + 1);
  json parsed;
  try {
    parsed = json::parse(value);
  } catch (const json::exception&) {
    parsed = value; // a bare word: a string ("20us", "randread"); or a number beyond a double, refused later
  }
  json* node = &doc;
  std::string pointer;
  std::size_t start = 0;
  while (true) {
    auto dot        = path.find('.', start);
    std::string key = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    bool last       = dot == std::string::npos;
    if (key.empty())
      throw InputError("--set", path, "empty component in the path");
    if (node->is_array()) {
      std::size_t idx = 0;
      try {
        idx = std::stoul(key);
      } catch (...) {
        throw InputError("--set", path,
                         "'" + (pointer.empty() ? "/" : pointer) + "' is an array: expected an index, got '" + key +
                             "'");
      }
      if (idx >= node->size())
        throw InputError("--set", path, "index " + key + " is past the end of " + pointer);
      node = &(*node)[idx];
    } else if (node->is_object()) {
      if (not node->contains(key) and not last) {
        std::vector<std::string> keys;
        for (auto& it : node->items())
          keys.push_back(it.key());
        throw InputError("--set", path,
                         "no key '" + key + "' in " + (pointer.empty() ? "/" : pointer) + did_you_mean(key, keys));
      }
      node = &(*node)[key];
    } else {
      throw InputError("--set", path, (pointer.empty() ? "/" : pointer) + " is not an object");
    }
    pointer.push_back('/');
    pointer.append(pointer_token(key));
    if (last)
      break;
    start = dot + 1;
  }
  *node = parsed;
}

Scenario scenario_from_json(json doc, const std::string& file)
{
  Scenario sc;
  sc.file     = file;
  sc.document = std::move(doc);
  JsonNode root(sc.document, file, "");
  root.expect_object();
  expand_groups(sc.document, file, sc.origins, &sc.patched);
  sc.params = scenario_table().parse(root, {"components", "$schema"});
  if (not sc.document.contains("components"))
    root.fail("missing 'components' (an object of named components, each with a \"type\")");
  JsonNode comps = root.child("components");
  comps.expect_object();
  if (sc.document["components"].empty())
    comps.fail("no components: a scenario needs at least a job and a device");
  const auto& reg = Registry::builtin();
  for (auto& item : sc.document["components"].items()) {
    JsonNode c = comps.child(item.key());
    c.expect_object();
    if (not c.value().contains("type"))
      c.fail("missing \"type\" (one of: " + [&] {
        std::string s;
        for (auto& t : reg.types())
          s += (s.empty() ? "" : ", ") + t;
        return s;
      }() + ")");
    JsonNode t = c.child("type");
    if (not t.value().is_string())
      t.fail("expected the name of a model type, got " + JsonNode::describe(t.value()));
    std::string type = t.value().get<std::string>();
    if (not reg.find(type))
      t.fail("unknown model type '" + type + "'" + did_you_mean(type, reg.types()) +
             "; run 'pvsim models' for the list");
    sc.components.push_back({item.key(), type});
  }
  return sc;
}

Scenario load_scenario(const std::string& path, const std::vector<std::string>& overrides,
                       std::optional<std::uint64_t> seed)
{
  json doc = read_json_file(path, "scenario file");
  if (not doc.is_object())
    throw InputError(path, "/", "expected a scenario object, got " + JsonNode::describe(doc));
  // An override of a component that a group makes waits until the groups are expanded (with the overrides of the
  // groups themselves, e.g. their count, applied).
  auto made_by_group = [&doc](const std::string& o) {
    if (o.rfind("components.", 0) != 0 or not doc.contains("groups"))
      return false;
    std::string rest = o.substr(std::string("components.").size());
    std::string name = rest.substr(0, std::min(rest.find('.'), rest.find('=')));
    return not(doc.contains("components") and doc["components"].is_object() and doc["components"].contains(name));
  };
  std::vector<std::string> after_groups;
  for (const auto& o : overrides) {
    if (made_by_group(o))
      after_groups.push_back(o);
    else
      apply_override(doc, o);
  }
  std::map<std::string, std::string> origins;
  std::map<std::string, std::map<std::string, std::string>> patched;
  if (not after_groups.empty()) {
    expand_groups(doc, path, origins, &patched);
    for (const auto& o : after_groups)
      apply_override(doc, o);
  }
  if (seed)
    doc["seed"] = *seed;
  Scenario sc = scenario_from_json(std::move(doc), path);
  sc.origins.merge(origins);
  sc.patched.merge(patched);
  return sc;
}

} // namespace pvsim
