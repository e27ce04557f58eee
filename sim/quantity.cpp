#include "sim/quantity.hpp"

namespace pvsim {

std::vector<std::string> quantity_keys(const std::string& base, Dimension d)
{
  std::vector<std::string> keys{base};
  for (const auto& s : key_suffixes(d))
    keys.push_back(base + "_" + std::string(s.suffix));
  return keys;
}

double read_number(const JsonNode& node)
{
  if (not node.value().is_number())
    node.fail("expected a number, got " + JsonNode::describe(node.value()));
  return node.value().get<double>();
}

namespace {
// Finds which form of `base` is present; returns (key, factor) with factor 0 for the string form.
std::optional<std::pair<std::string, double>> find_form(const JsonNode& obj, const std::string& base, Dimension d)
{
  std::optional<std::pair<std::string, double>> found;
  auto note = [&](const std::string& key, double factor) {
    if (not obj.value().contains(key))
      return;
    if (found)
      obj.fail("both '" + found->first + "' and '" + key + "' are given; write '" + base + "' once");
    found = std::make_pair(key, factor);
  };
  note(base, 0.0);
  for (const auto& s : key_suffixes(d))
    note(base + "_" + std::string(s.suffix), s.factor);
  return found;
}

double convert(const JsonNode& v, const std::string& base, Dimension d, double factor)
{
  if (factor != 0.0)
    return read_number(v) * factor;
  if (v.value().is_string()) {
    auto q = parse_quantity(d, v.value().get<std::string>());
    if (not q)
      v.fail("expected a " +
             std::string(d == Dimension::duration    ? "duration"
                         : d == Dimension::size      ? "size"
                         : d == Dimension::frequency ? "frequency"
                                                     : "bandwidth") +
             " with a unit such as " + std::string(unit_example(d)) + ", got " + JsonNode::describe(v.value()));
    return *q;
  }
  if (v.value().is_number())
    v.fail("a bare number is ambiguous here: write it with a unit, such as " + std::string(unit_example(d)) +
           ", or use the key '" + base + "_" + std::string(key_suffixes(d).front().suffix) + "'");
  v.fail("expected a quantity with a unit such as " + std::string(unit_example(d)) + ", got " +
         JsonNode::describe(v.value()));
}
} // namespace

std::optional<double> read_quantity(const JsonNode& obj, const std::string& base, Dimension d,
                                    std::set<std::string>* consumed)
{
  auto form = find_form(obj, base, d);
  if (not form)
    return std::nullopt;
  if (consumed)
    consumed->insert(form->first);
  return convert(obj.child(form->first), base, d, form->second);
}

std::optional<std::vector<double>> read_quantity_list(const JsonNode& obj, const std::string& base, Dimension d,
                                                      std::set<std::string>* consumed)
{
  auto form = find_form(obj, base, d);
  if (not form)
    return std::nullopt;
  if (consumed)
    consumed->insert(form->first);
  JsonNode list = obj.child(form->first);
  list.expect_array();
  std::vector<double> out;
  for (std::size_t i = 0; i < list.value().size(); ++i)
    out.push_back(convert(list.at(i), base, d, form->second));
  return out;
}

void reject_unknown_keys(const JsonNode& obj, const std::set<std::string>& allowed, const std::string& what)
{
  std::vector<std::string> candidates(allowed.begin(), allowed.end());
  for (const auto& item : obj.value().items()) {
    if (allowed.count(item.key()))
      continue;
    throw InputError(obj.file(), obj.pointer() + "/" + pointer_token(item.key()),
                     "unknown key '" + item.key() + "' for " + what + did_you_mean(item.key(), candidates));
  }
}

} // namespace pvsim
