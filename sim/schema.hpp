/* pvsim: the JSON Schema of scenarios, generated from the registered models' ParamTables
 * (scenarios/schema.json is this output, checked by a test to be up to date). */
#pragma once

#include "sim/json_node.hpp"

namespace pvsim {

json scenario_schema();
/** Human documentation of every model and its parameters (for `pvsim models`). */
std::string models_documentation();

} // namespace pvsim
