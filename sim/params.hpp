/* pvsim: one typed Params struct per model, described field by field.
 *
 * A model describes its parameters once, in a ParamTable (name, kind, unit, default, range, documentation and where
 * the default comes from, like SST_ELI_DOCUMENT_PARAMS or ns-3 attributes). From that one description pvsim
 *   - reads the struct from JSON (units converted, ranges checked, unknown keys rejected with "did you mean"),
 *   - writes the resolved values back (canonical units) into results.json,
 *   - generates the JSON Schema (scenarios/schema.json) and the `pvsim models` documentation,
 *   - finds the ports (references to other components) for the wiring graph,
 *   - gives the defaults (defaults()): the Params struct declares its fields without initialisers, so a default is
 *     written once, in the table, with its unit and its source. */
#pragma once

#include "sim/distribution.hpp"
#include "sim/json_node.hpp"
#include "sim/quantity.hpp"

#include <functional>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace pvsim {

struct ParamDoc {
  std::string name;
  std::string kind; // integer, number, bool, string, choice, duration, size, frequency, bandwidth, distribution, ref
  std::string doc;
  std::string default_from; // where the default comes from (driver, paper, convention)
  json default_value;       // null when required
  bool required = false;
};

template <class P>
class ParamTable {
public:
  explicit ParamTable(std::string what) : what_(std::move(what)) {}

  ParamTable& integer(const std::string& name, long long P::*member, std::optional<long long> def, long long min,
                      long long max, std::string doc, std::string from = "")
  {
    json schema = {{"type", "integer"}, {"minimum", min}};
    if (max != std::numeric_limits<long long>::max())
      schema["maximum"] = max;
    return simple<long long>(
        name, "integer", member, def, schema, std::move(doc), std::move(from), [min, max](const JsonNode& v) {
          if (not v.value().is_number_integer())
            v.fail("expected an integer, got " + JsonNode::describe(v.value()));
          long long x = v.value().template get<long long>();
          if (x < min or x > max)
            v.fail("expected an integer " + int_range_text(min, max) + ", got " + std::to_string(x));
          return x;
        });
  }

  ParamTable& number(const std::string& name, double P::*member, std::optional<double> def, double min, double max,
                     std::string doc, std::string from = "")
  {
    json schema = {{"type", "number"}, {"minimum", min}};
    if (max != std::numeric_limits<double>::max())
      schema["maximum"] = max;
    return simple<double>(name, "number", member, def, schema, std::move(doc), std::move(from),
                          [min, max](const JsonNode& v) {
                            double x = read_number(v);
                            if (x < min or x > max)
                              v.fail("expected a number " + range_text(min, max) + ", got " + json(x).dump());
                            return x;
                          });
  }

  ParamTable& flag(const std::string& name, bool P::*member, bool def, std::string doc, std::string from = "")
  {
    return simple<bool>(name, "bool", member, def, {{"type", "boolean"}}, std::move(doc), std::move(from),
                        [](const JsonNode& v) {
                          if (not v.value().is_boolean())
                            v.fail("expected true or false, got " + JsonNode::describe(v.value()));
                          return v.value().template get<bool>();
                        });
  }

  ParamTable& choice(const std::string& name, std::string P::*member, std::vector<std::string> choices,
                     std::optional<std::string> def, std::string doc, std::string from = "")
  {
    return simple<std::string>(
        name, "choice", member, def, {{"type", "string"}, {"enum", choices}}, std::move(doc), std::move(from),
        [choices](const JsonNode& v) {
          if (not v.value().is_string())
            v.fail("expected one of " + join(choices) + ", got " + JsonNode::describe(v.value()));
          std::string s = v.value().template get<std::string>();
          for (const auto& c : choices)
            if (c == s)
              return s;
          v.fail("unknown value '" + s + "'" + did_you_mean(s, choices) + "; expected one of " + join(choices));
        });
  }

  /** A version chosen among `choices` ("6.1"), given as a string or, as `--set key=6.1` gives it, as a JSON number
   * read by its shortest decimal form (so 6.10 must be quoted: as a number it is 6.1). */
  ParamTable& version_choice(const std::string& name, std::string P::*member, std::vector<std::string> choices,
                             std::string def, std::string doc, std::string from = "")
  {
    return simple<std::string>(
        name, "version", member, def,
        {{"anyOf", json::array({{{"type", "string"}, {"enum", choices}}, {{"type", "number"}}})}}, std::move(doc),
        std::move(from), [choices](const JsonNode& v) {
          std::string s;
          if (v.value().is_string())
            s = v.value().template get<std::string>();
          else if (v.value().is_number())
            s = v.value().dump();
          else
            v.fail("expected a version, one of " + join(choices) + ", got " + JsonNode::describe(v.value()));
          for (const auto& c : choices)
            if (c == s)
              return s;
          v.fail("unsupported version '" + s + "'" + did_you_mean(s, choices) + "; supported: " + join(choices));
        });
  }

  ParamTable& text(const std::string& name, std::string P::*member, std::string def, std::string doc)
  {
    return simple<std::string>(name, "string", member, def, {{"type", "string"}}, std::move(doc), "",
                               [](const JsonNode& v) {
                                 if (not v.value().is_string())
                                   v.fail("expected a string, got " + JsonNode::describe(v.value()));
                                 return v.value().template get<std::string>();
                               });
  }

  /** A list of integers (empty by default). */
  ParamTable& integers(const std::string& name, std::vector<long long> P::*member, long long min, long long max,
                       std::string doc, std::string from = "")
  {
    Field f  = make(name, "integer list", json::array(), std::move(doc), std::move(from));
    f.schema = {{"type", "array"}, {"items", {{"type", "integer"}, {"minimum", min}, {"maximum", max}}}};
    f.read   = [name, member, min, max](P& p, const JsonNode& obj, std::set<std::string>& used) {
      (p.*member).clear();
      if (not obj.value().contains(name))
        return;
      used.insert(name);
      JsonNode v = obj.child(name);
      v.expect_array("integers");
      for (std::size_t i = 0; i < v.value().size(); ++i) {
        JsonNode e = v.at(i);
        if (not e.value().is_number_integer())
          e.fail("expected an integer, got " + JsonNode::describe(e.value()));
        long long x = e.value().template get<long long>();
        if (x < min or x > max)
          e.fail("expected an integer " + int_range_text(min, max) + ", got " + std::to_string(x));
        (p.*member).push_back(x);
      }
    };
    f.write = [name, member](const P& p, json& out) { out[name] = p.*member; };
    return add(std::move(f));
  }

  /** A quantity with a dimension: "20us" or name_us: 20. Stored in the base unit (s, bytes, Hz, B/s). */
  ParamTable& quantity(const std::string& name, Dimension dim, double P::*member, std::optional<double> def, double min,
                       double max, std::string doc, std::string from = "")
  {
    static const char* kinds[] = {"duration", "size", "frequency", "bandwidth"};
    Field f     = make(name, kinds[static_cast<int>(dim)], def ? json(*def) : json(), std::move(doc), std::move(from));
    f.keys      = quantity_keys(name, dim);
    json props  = json::object();
    props[name] = {{"type", "string"}, {"description", "with a unit, e.g. " + std::string(unit_example(dim))}};
    for (const auto& s : key_suffixes(dim))
      props[name + "_" + std::string(s.suffix)] = {{"type", "number"}, {"minimum", min / s.factor}};
    f.schema_props = props;
    f.read         = [name, dim, member, def, min, max](P& p, const JsonNode& obj, std::set<std::string>& used) {
      auto v = read_quantity(obj, name, dim, &used);
      if (not v) {
        p.*member = *def;
        return;
      }
      if (*v < min or *v > max) {
        std::string key = name;
        for (const auto& k : quantity_keys(name, dim))
          if (obj.value().contains(k))
            key = k;
        obj.child(key).fail("'" + name + "' must be " + range_text(min, max) + " " + std::string(base_unit(dim)) +
                                    ", got " + obj.value().at(key).dump() + " (" + json(*v).dump() + " " +
                                    std::string(base_unit(dim)) + ")");
      }
      p.*member = *v;
    };
    std::string canonical = name + "_" + std::string(base_unit(dim));
    f.write               = [canonical, member](const P& p, json& out) { out[canonical] = p.*member; };
    return add(std::move(f));
  }

  ParamTable& distribution(const std::string& name, Distribution P::*member, std::optional<Distribution> def,
                           std::string doc, std::string from = "")
  {
    Field f  = make(name, "distribution", def ? def->to_json() : json(), std::move(doc), std::move(from));
    f.schema = {{"$ref", "#/$defs/distribution"}};
    f.read   = reader(name, member, def, [](const JsonNode& v) { return Distribution::parse(v); });
    f.write  = [name, member](const P& p, json& out) { out[name] = (p.*member).to_json(); };
    return add(std::move(f));
  }

  /** A distribution that may be absent (the model then falls back on another field). */
  ParamTable& optional_distribution(const std::string& name, std::optional<Distribution> P::*member, std::string doc)
  {
    Field f    = make(name, "distribution", json(nullptr), std::move(doc), "");
    f.required = false;
    f.schema   = {{"$ref", "#/$defs/distribution"}};
    f.read     = [name, member](P& p, const JsonNode& obj, std::set<std::string>& used) {
      if (not obj.value().contains(name)) {
        p.*member = std::nullopt;
        return;
      }
      used.insert(name);
      p.*member = Distribution::parse(obj.child(name));
    };
    f.write = [name, member](const P& p, json& out) {
      if (p.*member)
        out[name] = (p.*member)->to_json();
    };
    return add(std::move(f));
  }

  /** A reference to a resource component (CPUs, a VM): a port outside the request path. */
  ParamTable& resource(const std::string& name, std::string P::*member, bool required, std::string doc)
  {
    ref(name, member, required, std::move(doc));
    fields_.back().kind        = "resource";
    fields_.back().is_resource = true;
    return *this;
  }

  /** A reference to another component: a port of the wiring graph. */
  ParamTable& ref(const std::string& name, std::string P::*member, bool required, std::string doc)
  {
    Field f    = make(name, "ref", required ? json() : json(""), std::move(doc), "");
    f.required = required;
    f.is_ref   = true;
    f.schema   = {{"type", "string"}, {"description", "name of a component"}};
    f.read     = [name, member, required](P& p, const JsonNode& obj, std::set<std::string>& used) {
      if (not obj.value().contains(name)) {
        p.*member = "";
        return;
      }
      used.insert(name);
      JsonNode v = obj.child(name);
      if (not v.value().is_string() or v.value().get<std::string>().empty())
        v.fail("expected the name of a component, got " + JsonNode::describe(v.value()));
      p.*member = v.value().get<std::string>();
    };
    f.write = [name, member](const P& p, json& out) {
      if (not(p.*member).empty())
        out[name] = p.*member;
    };
    f.ref_targets = [member](const P& p) { return std::vector<std::string>{p.*member}; };
    return add(std::move(f));
  }

  /** A list of references to other components (ports "name/0", "name/1", ...), empty by default. */
  ParamTable& ref_list(const std::string& name, std::vector<std::string> P::*member, std::string doc)
  {
    Field f   = make(name, "ref list", json::array(), std::move(doc), "");
    f.is_ref  = true;
    f.is_list = true;
    f.schema  = {{"type", "array"}, {"items", {{"type", "string"}, {"description", "name of a component"}}}};
    f.read    = [name, member](P& p, const JsonNode& obj, std::set<std::string>& used) {
      (p.*member).clear();
      if (not obj.value().contains(name))
        return;
      used.insert(name);
      JsonNode v = obj.child(name);
      v.expect_array("component names");
      for (std::size_t i = 0; i < v.value().size(); ++i) {
        JsonNode e = v.at(i);
        if (not e.value().is_string() or e.value().template get<std::string>().empty())
          e.fail("expected the name of a component, got " + JsonNode::describe(e.value()));
        (p.*member).push_back(e.value().template get<std::string>());
      }
    };
    f.write       = [name, member](const P& p, json& out) { out[name] = p.*member; };
    f.ref_targets = [member](const P& p) { return p.*member; };
    return add(std::move(f));
  }

  /** A list of references to resource components (CPUs, IOThreads), outside the request path. */
  ParamTable& resource_list(const std::string& name, std::vector<std::string> P::*member, std::string doc)
  {
    ref_list(name, member, std::move(doc));
    fields_.back().kind        = "resource list";
    fields_.back().is_resource = true;
    return *this;
  }

  /** A model-wide check after all fields are read (e.g. max ≥ min); throw through obj.fail(). */
  ParamTable& check(std::function<void(const P&, const JsonNode&)> c)
  {
    checks_.push_back(std::move(c));
    return *this;
  }

  /** Reads a Params from the component's JSON object; `ignored` keys belong to the caller (e.g. "type"). */
  P parse(const JsonNode& obj, const std::set<std::string>& ignored = {}) const
  {
    obj.expect_object();
    std::set<std::string> allowed(ignored.begin(), ignored.end());
    for (const auto& f : fields_)
      allowed.insert(f.keys.begin(), f.keys.end());
    reject_unknown_keys(obj, allowed, what_);
    P p{};
    std::set<std::string> used;
    for (const auto& f : fields_) {
      bool present = false;
      for (const auto& k : f.keys)
        present = present or obj.value().contains(k);
      if (f.required and not present)
        obj.fail("missing '" + f.name + "' (" + f.doc + ")");
      f.read(p, obj, used);
    }
    for (const auto& c : checks_)
      c(p, obj);
    return p;
  }

  /** The Params every optional field of which has its default (required fields value-initialised): what code and
   * tests start from instead of a default-constructed struct. */
  P defaults() const
  {
    static const json empty = json::object();
    JsonNode obj(empty, "<defaults of " + what_ + ">", "");
    P p{};
    std::set<std::string> used;
    for (const auto& f : fields_)
      if (not f.required)
        f.read(p, obj, used);
    return p;
  }

  json write(const P& p) const
  {
    json out = json::object();
    for (const auto& f : fields_)
      f.write(p, out);
    return out;
  }

  /** (port name, target component, required, is a resource) for every reference field. */
  std::vector<std::tuple<std::string, std::string, bool, bool>> refs(const P& p) const
  {
    std::vector<std::tuple<std::string, std::string, bool, bool>> out;
    for (const auto& f : fields_)
      if (f.is_ref and not f.is_list)
        out.emplace_back(f.name, f.ref_targets(p).front(), f.required, f.is_resource);
      else if (f.is_ref)
        for (std::size_t i = 0; auto& t : f.ref_targets(p))
          out.emplace_back(f.name + "/" + std::to_string(i++), t, true, f.is_resource);
    return out;
  }

  /** JSON Schema of the component object (without "type"). */
  json schema() const
  {
    json props    = json::object();
    json required = json::array();
    for (const auto& f : fields_) {
      if (f.schema_props.is_object()) {
        for (auto& [k, v] : f.schema_props.items()) {
          props[k] = v;
          props[k]["description"] =
              f.doc + (v.contains("description") ? " (" + v["description"].template get<std::string>() + ")" : "");
        }
      } else {
        json s           = f.schema;
        s["description"] = f.doc + (f.from.empty() ? "" : " Default from: " + f.from + ".");
        if (not f.default_value.is_null())
          s["default"] = f.default_value;
        props[f.name] = s;
      }
      if (f.required and f.keys.size() == 1)
        required.push_back(f.name);
    }
    json out = {{"properties", props}};
    if (not required.empty())
      out["required"] = required;
    return out;
  }

  std::vector<ParamDoc> docs() const
  {
    std::vector<ParamDoc> out;
    for (const auto& f : fields_)
      out.push_back({f.name, f.kind, f.doc, f.from, f.default_value, f.required});
    return out;
  }

private:
  struct Field {
    std::string name;
    std::string kind;
    std::vector<std::string> keys;
    bool required    = false;
    bool is_ref      = false;
    bool is_resource = false;
    std::string doc;
    std::string from;
    json default_value;
    json schema;
    json schema_props;
    std::function<void(P&, const JsonNode&, std::set<std::string>&)> read;
    std::function<void(const P&, json&)> write;
    std::function<std::vector<std::string>(const P&)> ref_targets;
    bool is_list = false;
  };

  /** The read function of a field stored as is: the default when the key is absent, else convert(value). */
  template <class T, class Convert>
  static auto reader(const std::string& name, T P::*member, std::optional<T> def, Convert convert)
  {
    return [name, member, def, convert](P& p, const JsonNode& obj, std::set<std::string>& used) {
      if (not obj.value().contains(name)) {
        p.*member = *def; // present whenever the field is optional: parse() rejects a missing required field first
        return;
      }
      used.insert(name);
      p.*member = convert(obj.child(name));
    };
  }

  /** A field under one key, written back as is. */
  template <class T, class Convert>
  ParamTable& simple(const std::string& name, std::string kind, T P::*member, std::optional<T> def, json schema,
                     std::string doc, std::string from, Convert convert)
  {
    Field f  = make(name, std::move(kind), def ? json(*def) : json(), std::move(doc), std::move(from));
    f.schema = std::move(schema);
    f.read   = reader(name, member, def, convert);
    f.write  = [name, member](const P& p, json& out) { out[name] = p.*member; };
    return add(std::move(f));
  }

  Field make(const std::string& name, std::string kind, json def, std::string doc, std::string from)
  {
    Field f;
    f.name          = name;
    f.kind          = std::move(kind);
    f.keys          = {name};
    f.required      = def.is_null();
    f.default_value = std::move(def);
    f.doc           = std::move(doc);
    f.from          = std::move(from);
    return f;
  }
  ParamTable& add(Field f)
  {
    fields_.push_back(std::move(f));
    return *this;
  }
  static std::string join(const std::vector<std::string>& v)
  {
    std::string s;
    for (const auto& x : v)
      s += (s.empty() ? "" : ", ") + x;
    return s;
  }
  static std::string int_range_text(long long min, long long max)
  {
    if (max == std::numeric_limits<long long>::max())
      return "≥ " + std::to_string(min);
    return "in [" + std::to_string(min) + ", " + std::to_string(max) + "]";
  }
  static std::string range_text(double min, double max)
  {
    auto num = [](double x) { return json(x).dump(); };
    if (max >= std::numeric_limits<double>::max() / 2 or
        max == static_cast<double>(std::numeric_limits<long long>::max()))
      return "≥ " + num(min);
    return "in [" + num(min) + ", " + num(max) + "]";
  }

  std::string what_;
  std::vector<Field> fields_;
  std::vector<std::function<void(const P&, const JsonNode&)>> checks_;
};

} // namespace pvsim
