#include "sim/scenario_groups.hpp"

#include <algorithm>
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

/** RFC 7386 merge patch of `patch` into `target`; `pointer` is where `patch` is in the file, and `set` receives, for
 * every top-level key of `target` that the patch sets, the pointer of the value that set it. */
void merge_patch(json& target, const json& patch, const std::string& pointer, std::map<std::string, std::string>* set)
{
  for (auto& p : patch.items()) {
    if (set != nullptr)
      (*set)[p.key()] = pointer + "/" + pointer_token(p.key());
    if (p.value().is_null()) {
      target.erase(p.key());
    } else if (p.value().is_object() and target.contains(p.key()) and target[p.key()].is_object()) {
      merge_patch(target[p.key()], p.value(), pointer + "/" + pointer_token(p.key()), nullptr);
    } else {
      target[p.key()] = p.value();
    }
  }
}

std::vector<std::string> keys_of(const json& obj)
{
  std::vector<std::string> out;
  for (auto& i : obj.items())
    out.push_back(i.key());
  return out;
}

/** "3", "2-5" or "0,4,8-11": the copies a key of "copies" selects, each checked against the count. */
std::vector<long long> parse_copy_set(const JsonNode& where, const std::string& text, long long count)
{
  std::vector<long long> out;
  auto bad = [&](const std::string& why) {
    where.fail("'" + text + "' is not a set of copies (" + why +
               "); expected copy indices from 0 to count-1, as \"3\", \"2-5\" or \"0,4,8-11\"");
  };
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t comma = text.find(',', start);
    std::string part  = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    std::size_t dash  = part.find('-');
    auto number       = [&](const std::string& s) {
      if (s.empty() or s.size() > 6 or s.find_first_not_of("0123456789") != std::string::npos)
        bad("'" + s + "' is not an index");
      return std::stoll(s);
    };
    long long lo = number(dash == std::string::npos ? part : part.substr(0, dash));
    long long hi = dash == std::string::npos ? lo : number(part.substr(dash + 1));
    if (hi < lo)
      bad("a range runs upwards");
    if (hi >= count)
      where.fail("copy " + std::to_string(hi) + " does not exist: the group has " + std::to_string(count) +
                 " copies (0 to " + std::to_string(count - 1) + ")");
    for (long long i = lo; i <= hi; ++i)
      out.push_back(i);
    if (comma == std::string::npos)
      break;
    start = comma + 1;
  }
  return out;
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

void expand_groups(json& doc, const std::string& file, std::map<std::string, std::string>& origins,
                   std::map<std::string, std::map<std::string, std::string>>* patched)
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
  const std::vector<std::string> group_keys{"count", "components", "vary", "copies"};
  for (auto& g : doc["groups"].items()) {
    JsonNode gn = groups.child(g.key());
    gn.expect_object();
    for (auto& k : g.value().items())
      if (std::find(group_keys.begin(), group_keys.end(), k.key()) == group_keys.end())
        gn.child(k.key()).fail("unknown key '" + k.key() + "'" + did_you_mean(k.key(), group_keys) +
                               "; a group has \"count\", \"components\", \"vary\" and \"copies\"");
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
    const json& templ                       = g.value()["components"];
    std::vector<std::string> template_names = keys_of(templ);
    for (auto& c : templ.items()) {
      if (count > 1 and c.key().find("{i}") == std::string::npos)
        comps.child(c.key()).fail("the name '" + c.key() + "' has no {i}: its " + std::to_string(count) +
                                  " copies would have the same name");
      comps.child(c.key()).expect_object();
    }

    // One copy's components, before {i}: the template, then "vary", then "copies"; `set` records which parameter of
    // which component a "vary" or "copies" entry set (for errors in it).
    std::vector<json> copy_of(static_cast<std::size_t>(count), templ);
    std::vector<std::map<std::string, std::map<std::string, std::string>>> set(static_cast<std::size_t>(count));
    if (g.value().contains("vary")) {
      JsonNode vn = gn.child("vary");
      vn.expect_object();
      for (auto& v : g.value()["vary"].items()) {
        JsonNode entry   = vn.child(v.key());
        std::size_t dot  = v.key().find('.');
        std::string comp = v.key().substr(0, dot);
        if (dot == std::string::npos or dot + 1 == v.key().size())
          entry.fail("expected \"COMPONENT.PARAMETER\" (as --set writes it, e.g. \"fio{i}.iodepth\"), got '" + v.key() +
                     "'");
        if (not templ.contains(comp))
          entry.fail("'" + comp + "' is not a component of the group's template" + did_you_mean(comp, template_names));
        entry.expect_array("values, one per copy in turn");
        if (v.value().empty())
          entry.fail("no values: copy i takes value i (modulo their number)");
        std::vector<std::string> path;
        for (std::size_t s = dot + 1; s <= v.key().size();) {
          std::size_t e = std::min(v.key().find('.', s), v.key().size());
          path.push_back(v.key().substr(s, e - s));
          s = e + 1;
        }
        for (long long i = 0; i < count; ++i) {
          std::size_t pick = static_cast<std::size_t>(i) % v.value().size();
          json* node       = &copy_of[static_cast<std::size_t>(i)][comp];
          for (std::size_t p = 0; p + 1 < path.size(); ++p) {
            if (not node->contains(path[p]) or not(*node)[path[p]].is_object())
              (*node)[path[p]] = json::object();
            node = &(*node)[path[p]];
          }
          (*node)[path.back()] = v.value()[pick];
          if (path.size() == 1) // an error in a nested value names the entry's template path
            set[static_cast<std::size_t>(i)][comp][path[0]] = entry.pointer() + "/" + std::to_string(pick);
        }
      }
    }
    if (g.value().contains("copies")) {
      JsonNode pn = gn.child("copies");
      pn.expect_object();
      for (auto& p : g.value()["copies"].items()) {
        JsonNode entry = pn.child(p.key());
        entry.expect_object();
        std::vector<long long> which = parse_copy_set(entry, p.key(), count);
        for (auto& c : p.value().items()) {
          JsonNode cpatch = entry.child(c.key());
          if (not templ.contains(c.key())) {
            if (c.value().is_null())
              cpatch.fail("'" + c.key() + "' is not a component of the group's template" +
                          did_you_mean(c.key(), template_names) + ": there is nothing to remove");
            cpatch.expect_object();
            if (not c.value().contains("type"))
              cpatch.fail("'" + c.key() + "' is not a component of the group's template" +
                          did_you_mean(c.key(), template_names) +
                          "; a component added for these copies needs a \"type\"");
          } else if (not c.value().is_null()) {
            cpatch.expect_object();
          }
          for (long long i : which) {
            json& comps_i = copy_of[static_cast<std::size_t>(i)];
            if (c.value().is_null()) {
              comps_i.erase(c.key());
              continue;
            }
            if (not comps_i.contains(c.key())) {
              comps_i[c.key()]                                   = c.value();
              set[static_cast<std::size_t>(i)][c.key()]["type"]  = cpatch.pointer() + "/type";
              origins[substitute_group_index(c.key(), i, count)] = cpatch.pointer(); // made here, not in the template
              continue;
            }
            merge_patch(comps_i[c.key()], c.value(), cpatch.pointer(), &set[static_cast<std::size_t>(i)][c.key()]);
          }
        }
      }
    }

    for (long long i = 0; i < count; ++i) {
      for (auto& c : copy_of[static_cast<std::size_t>(i)].items()) {
        bool in_template   = templ.contains(c.key());
        std::string origin = in_template ? comps.pointer() + "/" + pointer_token(c.key())
                                         : origins.at(substitute_group_index(c.key(), i, count));
        std::string name   = substitute_group_index(c.key(), i, count);
        if (not in_template and count > 1 and c.key().find("{i}") == std::string::npos and made_from.contains(name))
          JsonNode(doc, file, origin)
              .fail("the name '" + c.key() +
                    "' has no {i}: the copies it is added to would "
                    "have the same name");
        auto clash = made_from.find(name);
        if (clash != made_from.end())
          JsonNode(doc, file, origin)
              .fail("makes the component '" + name + "', which " + clash->second + " already makes");
        json copy = c.value();
        substitute_strings(copy, i, count);
        made[name]      = std::move(copy);
        made_from[name] = origin + " (copy " + std::to_string(i) + ")";
        origins[name]   = origin;
        if (patched != nullptr and set[static_cast<std::size_t>(i)].contains(c.key()))
          (*patched)[name] = set[static_cast<std::size_t>(i)][c.key()];
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

std::string patched_pointer(const std::string& where, const std::string& origin,
                            const std::map<std::string, std::string>& keys)
{
  if (where.size() <= origin.size() + 1 or where.compare(0, origin.size() + 1, origin + "/") != 0)
    return where;
  std::string rest = where.substr(origin.size() + 1);
  std::string key  = rest.substr(0, rest.find('/'));
  auto k           = keys.find(key);
  if (k == keys.end())
    return where;
  return k->second + rest.substr(key.size());
}

} // namespace pvsim
