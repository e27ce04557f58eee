/* pvsim: the resource estimate of a scenario (see resource_estimate.hpp). */
#include "sim/resource_estimate.hpp"

#include "sim/request.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace pvsim {

double ResourceEstimate::bytes_per_request()
{
  return static_cast<double>(sizeof(Request)) + 64.0;
}

void ResourceEstimate::add(std::string component, std::string what, double bytes, double address_bytes,
                           std::string advice)
{
  items_.push_back({std::move(component), std::move(what), bytes, std::max(bytes, address_bytes), std::move(advice)});
}

void ResourceEstimate::add_requests(const std::string& component, double count, const std::string& advice)
{
  char what[96];
  std::snprintf(what, sizeof what, "%.3g requests in flight", count);
  add(component, what, count * bytes_per_request(), 0, advice);
}

void ResourceEstimate::add_actors(const std::string& component, double count, double stack_bytes,
                                  const std::string& what)
{
  char text[160];
  std::snprintf(text, sizeof text, "%.0f %s (stacks of %s)", count, what.c_str(), format_bytes(stack_bytes).c_str());
  add(component, text, count * std::min(stack_bytes, touched_stack_bytes()), count * stack_bytes, "fewer " + what);
}

void ResourceEstimate::add_request_rate(const std::string&, std::optional<double> per_s)
{
  if (per_s)
    rate_per_s_ += *per_s;
  else
    rate_unbounded_ = true;
}

double ResourceEstimate::memory_bytes() const
{
  double total = 0;
  for (const auto& i : items_)
    total += i.bytes;
  return total;
}

double ResourceEstimate::address_bytes() const
{
  double total = 0;
  for (const auto& i : items_)
    total += i.address_bytes;
  return total;
}

std::vector<ResourceItem> ResourceEstimate::largest(std::size_t n) const
{
  std::vector<ResourceItem> out = items_;
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.bytes > b.bytes; });
  if (out.size() > n)
    out.resize(n);
  return out;
}

std::optional<double> ResourceEstimate::request_rate_per_s() const
{
  if (rate_unbounded_)
    return std::nullopt;
  return rate_per_s_;
}

nlohmann::json ResourceEstimate::to_json(double duration_s) const
{
  nlohmann::json items = nlohmann::json::array();
  for (const auto& i : largest(items_.size()))
    items.push_back(
        {{"component", i.component}, {"what", i.what}, {"bytes", i.bytes}, {"address_bytes", i.address_bytes}});
  nlohmann::json out = {{"memory_bytes", memory_bytes()}, {"address_bytes", address_bytes()}, {"items", items}};
  if (auto r = request_rate_per_s()) {
    out["max_requests_per_s"] = *r;
    out["max_requests"]       = *r * duration_s;
  }
  return out;
}

std::string ResourceEstimate::to_text(double duration_s) const
{
  std::ostringstream s;
  s << "estimate: at most " << format_bytes(memory_bytes()) << " of memory, " << format_bytes(address_bytes())
    << " of address space";
  auto top = largest(3);
  if (not top.empty()) {
    s << " (";
    for (std::size_t i = 0; i < top.size(); ++i)
      s << (i ? "; " : "") << (top[i].component.empty() ? "engine" : top[i].component) << ": " << top[i].what << ", "
        << format_bytes(top[i].bytes);
    s << ")";
  }
  s << "\n";
  if (auto r = request_rate_per_s()) {
    char line[160];
    std::snprintf(line, sizeof line, "estimate: at most %.3g requests per simulated second, %.3g in %g s\n", *r,
                  *r * duration_s, duration_s);
    s << line;
  }
  return s.str();
}

std::optional<double> memory_limit_bytes(std::optional<double> max_bytes, std::string* source)
{
  std::optional<double> limit;
  auto take = [&](double v, const char* from) {
    if (not limit or v < *limit) {
      limit = v;
      if (source)
        *source = from;
    }
  };
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  double kib = 0;
  std::string unit;
  while (meminfo >> key >> kib >> unit)
    if (key == "MemAvailable:") {
      take(kib * 1024.0, "the memory available (MemAvailable)");
      break;
    }
  if (max_bytes)
    take(*max_bytes, "--max-memory");
  return limit;
}

std::optional<double> address_space_limit_bytes()
{
  struct rlimit rl {};
  if (getrlimit(RLIMIT_AS, &rl) == 0 and rl.rlim_cur != RLIM_INFINITY)
    return static_cast<double>(rl.rlim_cur);
  return std::nullopt;
}

std::string format_bytes(double bytes)
{
  const char* units[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB"};
  int u               = 0;
  while (bytes >= 1024.0 and u < 5) {
    bytes /= 1024.0;
    ++u;
  }
  char out[48];
  std::snprintf(out, sizeof out, u == 0 ? "%.0f %s" : "%.3g %s", bytes, units[u]);
  return out;
}

} // namespace pvsim
