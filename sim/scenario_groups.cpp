#include "sim/scenario_groups.hpp"

#include <string>
#include <vector>

namespace pvsim {

namespace {
constexpr long long max_count = 4096;

void substitute_strings(json& v, long long index, long long count)
{
  if (v.is_string()) {
    v = substitute_group_index(v.get<std::string>(), index, count);
  } else if (v.is_array() or v.is_object()) {
    for (auto& e : v)
      substitute_strings(e, index, count);
  }
}
} // namespace

std::string substitute_group_index(const std::string& text, long long index, long long count)
{
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text.compare(i, 3, "{i}") == 0) {
      out += std::to_string(index);
      i += 2;
    } else if (text.compare(i, 3, "{n}") == 0) {
      out += std::to_string(count);
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

void expand_groups(json& doc, const std::string& file, std::map<std::string, std::string>& origins)
{
  if (not doc.is_object() or not doc.contains("groups"))
    return;
  JsonNode root(doc, file, "");
  JsonNode groups = root.child("groups");
  groups.expect_object();
  json made = json::object();
  std::map<std::string, std::string> made_from; // component name -> where it was made (for a clash)
  if (doc.contains("components") and doc["components"].is_object())
    for (auto& item : doc["components"].items())
      made_from[item.key()] = "/components/" + pointer_token(item.key());
  for (auto& g : doc["groups"].items()) {
    JsonNode gn = groups.child(g.key());
    gn.expect_object();
    for (auto& k : g.value().items())
      if (k.key() != "count" and k.key() != "components")
        gn.child(k.key()).fail("unknown key '" + k.key() + "'" + did_you_mean(k.key(), {"count", "components"}) +
                               "; a group has \"count\" and \"components\"");
    if (not g.value().contains("count"))
      gn.fail("missing \"count\" (how many copies of the group's components)");
    JsonNode cn = gn.child("count");
    if (not cn.value().is_number_integer() or cn.value().get<long long>() < 1 or
        cn.value().get<long long>() > max_count)
      cn.fail("expected an integer from 1 to " + std::to_string(max_count) + ", got " + cn.value().dump());
    long long count = cn.value().get<long long>();
    if (not g.value().contains("components"))
      gn.fail("missing \"components\" (the components of one copy, their names with {i})");
    JsonNode comps = gn.child("components");
    comps.expect_object();
    if (g.value()["components"].empty())
      comps.fail("no components: a group needs at least one");
    for (auto& c : g.value()["components"].items()) {
      std::string origin = comps.pointer() + "/" + pointer_token(c.key());
      if (count > 1 and c.key().find("{i}") == std::string::npos)
        comps.child(c.key()).fail("the name '" + c.key() + "' has no {i}: its " + std::to_string(count) +
                                  " copies would have the same name");
      for (long long i = 0; i < count; ++i) {
        std::string name = substitute_group_index(c.key(), i, count);
        auto clash       = made_from.find(name);
        if (clash != made_from.end())
          comps.child(c.key()).fail("makes the component '" + name + "', which " + clash->second + " already makes");
        json copy = c.value();
        substitute_strings(copy, i, count);
        made[name]      = std::move(copy);
        made_from[name] = origin + " (copy " + std::to_string(i) + ")";
        origins[name]   = origin;
      }
    }
  }
  if (not doc.contains("components"))
    doc["components"] = json::object();
  else if (not doc["components"].is_object())
    root.child("components").expect_object();
  for (auto& m : made.items())
    doc["components"][m.key()] = std::move(m.value());
  doc.erase("groups");
}

} // namespace pvsim
