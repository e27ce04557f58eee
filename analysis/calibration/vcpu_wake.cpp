#include "analysis/calibration/vcpu_wake.hpp"

#include "sim/input_error.hpp"
#include "sim/scenario.hpp"

#include <filesystem>

namespace fs = std::filesystem;

namespace pvsim::calibration {

namespace {
constexpr const char* file_name = "vcpu_wake.json";

double seconds_from_us(const json& doc, const std::string& file, const char* key)
{
  if (not doc.contains(key) or not doc[key].is_number() or doc[key].get<double>() < 0)
    throw InputError(file, std::string("/") + key,
                     "expected a number of microseconds, 0 or more (the output of analysis/capture/vcpu_wake.cpp)");
  return doc[key].get<double>() * 1e-6;
}
} // namespace

std::optional<VcpuWake> vcpu_wake_beside(const std::vector<std::string>& trace_files)
{
  for (const auto& t : trace_files) {
    std::error_code ec;
    fs::path dir = fs::absolute(t, ec).parent_path();
    for (const fs::path& d : {dir, dir.parent_path()}) {
      fs::path f = d / file_name;
      if (not fs::is_regular_file(f, ec))
        continue;
      json doc = read_json_file(f.string(), "vCPU wake-up measurement");
      if (not doc.is_object() or doc.value("tool", "") != "pvsim vcpu_wake")
        throw InputError(f.string(), "/tool",
                         "expected \"pvsim vcpu_wake\" (the output of analysis/capture/vcpu_wake.cpp)");
      VcpuWake w{f.string(), seconds_from_us(doc, f.string(), "halt_wake_latency_us"),
                 seconds_from_us(doc, f.string(), "busy_kick_latency_us"), doc.value("poll_window_us", json())};
      return w;
    }
  }
  return std::nullopt;
}

} // namespace pvsim::calibration
