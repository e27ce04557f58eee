/* pvsim: reading quantities with units out of JSON objects.
 *
 * A quantity named `latency` (a duration) may be written `"latency": "20us"` or `"latency_us": 20` (or _s, _ms,
 * _ns). Both forms at once is an error, and so is a bare number under the unit-less name (ambiguous). */
#pragma once

#include "sim/json_node.hpp"
#include "sim/units.hpp"

#include <optional>
#include <set>
#include <string>
#include <vector>

namespace pvsim {

/** Every key under which `base` may be written. */
std::vector<std::string> quantity_keys(const std::string& base, Dimension d);

/** Reads `base` from object `obj`; nullopt when absent. Records the keys it consumed in `consumed`. */
std::optional<double> read_quantity(const JsonNode& obj, const std::string& base, Dimension d,
                                    std::set<std::string>* consumed);

/** Reads a list of quantities (`edges_us: [1, 2]` or `edges: ["1us", "2us"]`); nullopt when absent. */
std::optional<std::vector<double>> read_quantity_list(const JsonNode& obj, const std::string& base, Dimension d,
                                                      std::set<std::string>* consumed);

/** Throws for the first key of `obj` not in `allowed`, suggesting the closest allowed key. */
void reject_unknown_keys(const JsonNode& obj, const std::set<std::string>& allowed, const std::string& what);

/** A number from `node`, or a clear error. */
double read_number(const JsonNode& node);

} // namespace pvsim
