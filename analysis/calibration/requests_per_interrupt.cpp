/* pvsim: requests per interrupt, measured and simulated (see requests_per_interrupt.hpp). */
#include "analysis/calibration/requests_per_interrupt.hpp"

#include "analysis/readers/proc_interrupts.hpp"

#include <filesystem>

namespace pvsim::calibration {

std::optional<MeasuredInterrupts> measured_interrupts(const RunFacts& f)
{
  namespace fs = std::filesystem;
  if (f.rw.find("rw") != std::string::npos or f.rw == "readwrite" or f.iops <= 0 or f.runtime_s <= 0)
    return std::nullopt;
  fs::path result(f.file);
  fs::path dir    = result.parent_path().parent_path() / "interrupts";
  std::string run = result.stem().string();
  fs::path before = dir / (run + ".before.txt"), after = dir / (run + ".after.txt");
  std::error_code ec;
  if (not fs::is_regular_file(before, ec) or not fs::is_regular_file(after, ec))
    return std::nullopt;
  auto b   = readers::read_proc_interrupts(before.string());
  auto a   = readers::read_proc_interrupts(after.string());
  double n = 0;
  for (const auto& q : readers::queue_irqs("virtio-blk", a, &b))
    n += static_cast<double>(q.interrupts);
  if (n <= 0)
    return std::nullopt;
  return MeasuredInterrupts{n, f.iops * (f.runtime_s + f.ramp_s)};
}

std::optional<double> simulated_requests_per_interrupt(const json& results)
{
  if (not results.contains("components") or not results["components"].contains("fio"))
    return std::nullopt;
  double completed = results["components"]["fio"].value("completed", 0.0), interrupts = 0;
  for (const auto& [name, c] : results["components"].items())
    if (c.is_object() and c.contains("virtqueues"))
      for (const auto& vq : c["virtqueues"])
        interrupts += vq.value("interrupts", 0.0);
  if (interrupts <= 0 or completed <= 0)
    return std::nullopt;
  return completed / interrupts;
}

} // namespace pvsim::calibration
