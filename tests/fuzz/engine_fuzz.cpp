/* Fuzz targets of the engine's parsers: quantities with units, and whole scenarios (JSON, parameters of every model,
 * wiring), as far as `pvsim check` goes. Seeds: the shipped scenarios and the bad-input catalogue of the tests. */
#include "sim/scenario.hpp"
#include "sim/simulation.hpp"
#include "sim/units.hpp"
#include "tests/fuzz/fuzz_target.hpp"

#include <nlohmann/json.hpp>

using namespace pvsim;
using pvsim::fuzz::expect_clean;

PVSIM_FUZZ_TARGET(quantity)
{
  for (auto d : {Dimension::duration, Dimension::size, Dimension::frequency, Dimension::bandwidth})
    parse_quantity(d, input);
}

PVSIM_FUZZ_TARGET(scenario, "scenarios:.json", "tests/data/stacks:.json", "tests/data/regress:.json")
{
  auto doc = nlohmann::json::parse(input.begin(), input.end(), nullptr, false);
  if (doc.is_discarded())
    return; // not JSON: load_scenario refuses it before the scenario reader sees it
  expect_clean([&] { Simulation sim(scenario_from_json(std::move(doc), "fuzz.json")); });
}
