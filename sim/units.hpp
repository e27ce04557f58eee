/* pvsim: physical units, handled once, at parsing.
 *
 * Inside pvsim every quantity is in base SI units and its name says which (latency_s, size_bytes, speed_hz,
 * bw_Bps). Users write either a string with a unit ("20us", "4KiB", "2.5GHz", "10Gbit/s") or a number under a
 * key that carries the unit (latency_us: 20). The tables below are the only place units are known. */
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pvsim {

enum class Dimension { duration, size, frequency, bandwidth };

struct UnitSuffix {
  std::string_view suffix; // as used in a key: "us" in "latency_us"
  double factor;           // multiplier to the base unit
};

/** The key suffixes a dimension accepts (e.g. duration: s, ms, us, ns). The first one is the canonical one. */
const std::vector<UnitSuffix>& key_suffixes(Dimension d);

/** Name of the base unit ("s", "bytes", "Hz", "Bps"). */
std::string_view base_unit(Dimension d);

/** Human example for error messages: "\"20us\"". */
std::string_view unit_example(Dimension d);

/** Parses "20us", "1.5 ms", "4KiB", "2.5GHz", "10Gbit/s" into the base unit. nullopt when malformed. */
std::optional<double> parse_quantity(Dimension d, std::string_view text);

/** Formats a duration in seconds for people: "12.3 us", "4.00 ms". */
std::string format_duration(double seconds);

/** One number through a printf format with one double conversion: format_number("%.3g Hz", 45.05) is "45.1 Hz". */
std::string format_number(const char* printf_format, double v);

/** A number with a fixed count of decimals, as tables print it: format_fixed(6.349, 1) is "6.3". */
std::string format_fixed(double v, int decimals = 1);

} // namespace pvsim
