#include "sim/units.hpp"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace pvsim {

namespace {
struct UnitWord {
  std::string_view word;
  double factor;
};

// Units accepted inside strings. Sizes follow fio: a bare k/m/g is binary (fio's default kb_base=1024),
// KB/MB/GB are decimal, KiB/MiB/GiB binary.
const std::vector<UnitWord> duration_words{{"ns", 1e-9}, {"us", 1e-6}, {"µs", 1e-6}, {"ms", 1e-3},
                                           {"s", 1.0},   {"sec", 1.0}, {"min", 60.0}};
const std::vector<UnitWord> size_words{
    {"B", 1.0},          {"k", 1024.0},       {"K", 1024.0},         {"KiB", 1024.0},    {"KB", 1e3},
    {"kB", 1e3},         {"m", 1048576.0},    {"M", 1048576.0},      {"MiB", 1048576.0}, {"MB", 1e6},
    {"g", 1073741824.0}, {"G", 1073741824.0}, {"GiB", 1073741824.0}, {"GB", 1e9}};
const std::vector<UnitWord> freq_words{{"Hz", 1.0}, {"kHz", 1e3}, {"MHz", 1e6}, {"GHz", 1e9}};
const std::vector<UnitWord> bw_words{{"B/s", 1.0},     {"KB/s", 1e3},     {"kB/s", 1e3},        {"MB/s", 1e6},
                                     {"GB/s", 1e9},    {"KiB/s", 1024.0}, {"MiB/s", 1048576.0}, {"GiB/s", 1073741824.0},
                                     {"bit/s", 0.125}, {"kbit/s", 125.0}, {"Mbit/s", 125e3},    {"Gbit/s", 125e6},
                                     {"Mbps", 125e3},  {"Gbps", 125e6}};

const std::vector<UnitWord>& words(Dimension d)
{
  switch (d) {
  case Dimension::duration:
    return duration_words;
  case Dimension::size:
    return size_words;
  case Dimension::frequency:
    return freq_words;
  case Dimension::bandwidth:
    return bw_words;
  }
  return duration_words;
}
} // namespace

const std::vector<UnitSuffix>& key_suffixes(Dimension d)
{
  static const std::vector<UnitSuffix> dur{{"s", 1.0}, {"ms", 1e-3}, {"us", 1e-6}, {"ns", 1e-9}};
  static const std::vector<UnitSuffix> size{{"bytes", 1.0}, {"KiB", 1024.0}, {"MiB", 1048576.0}, {"GiB", 1073741824.0}};
  static const std::vector<UnitSuffix> freq{{"hz", 1.0}, {"mhz", 1e6}, {"ghz", 1e9}};
  static const std::vector<UnitSuffix> bw{{"Bps", 1.0}, {"MBps", 1e6}, {"GBps", 1e9}, {"Gbps", 125e6}};
  switch (d) {
  case Dimension::duration:
    return dur;
  case Dimension::size:
    return size;
  case Dimension::frequency:
    return freq;
  case Dimension::bandwidth:
    return bw;
  }
  return dur;
}

std::string_view base_unit(Dimension d)
{
  return key_suffixes(d).front().suffix;
}

std::string_view unit_example(Dimension d)
{
  switch (d) {
  case Dimension::duration:
    return "\"20us\"";
  case Dimension::size:
    return "\"4KiB\"";
  case Dimension::frequency:
    return "\"2.5GHz\"";
  case Dimension::bandwidth:
    return "\"10Gbit/s\"";
  }
  return "";
}

std::optional<double> parse_quantity(Dimension d, std::string_view text)
{
  std::size_t i = 0;
  while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i])))
    ++i;
  const char* begin = text.data() + i;
  const char* end   = text.data() + text.size();
  double value      = 0;
  auto [ptr, ec]    = std::from_chars(begin, end, value);
  if (ec != std::errc() or ptr == begin or not std::isfinite(value))
    return std::nullopt;
  std::string_view unit(ptr, static_cast<std::size_t>(end - ptr));
  while (not unit.empty() && std::isspace(static_cast<unsigned char>(unit.front())))
    unit.remove_prefix(1);
  while (not unit.empty() && std::isspace(static_cast<unsigned char>(unit.back())))
    unit.remove_suffix(1);
  if (unit.empty())
    return std::nullopt; // a unit is mandatory in strings: "20" is ambiguous
  for (const auto& w : words(d))
    if (w.word == unit)
      return value * w.factor;
  return std::nullopt;
}

std::string format_number(const char* printf_format, double v)
{
  char buf[128];
  std::snprintf(buf, sizeof buf, printf_format, v);
  return buf;
}

std::string format_fixed(double v, int decimals)
{
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string format_duration(double seconds)
{
  char buf[64];
  double a = std::fabs(seconds);
  if (a < 1e-6)
    std::snprintf(buf, sizeof buf, "%.1f ns", seconds * 1e9);
  else if (a < 1e-3)
    std::snprintf(buf, sizeof buf, "%.2f us", seconds * 1e6);
  else if (a < 1.0)
    std::snprintf(buf, sizeof buf, "%.3f ms", seconds * 1e3);
  else
    std::snprintf(buf, sizeof buf, "%.3f s", seconds);
  return buf;
}

} // namespace pvsim
