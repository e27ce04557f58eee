/* pvsim: the AIO sizing registry and its three policies (see aio_sizing.hpp for the rules). */
#include "models/qemu/aio_sizing.hpp"
#include "sim/named_registry.hpp"

#include <algorithm>
#include <cmath>

namespace pvsim {

namespace {

NamedRegistry<AioSizingInfo>& sizing_registry()
{
  static NamedRegistry<AioSizingInfo> registry("AIO sizing policy");
  return registry;
}

long long scaled(long long l, double factor)
{
  return static_cast<long long>(std::floor(static_cast<double>(l) * factor));
}

class FixedSizing final : public AioSizing {
public:
  static constexpr const char* policy_name = "fixed";
  static constexpr const char* summary     = "QEMU's constant queue length, whatever the disks attached.";
  static constexpr const char* params      = "max_events, max_threads or ring_entries (per engine)";
  using AioSizing::AioSizing;
  const char* name() const override { return policy_name; }
  bool bounded() const override { return false; }
  long long length(const SizingView& v, Why) override { return v.fixed_length; }
};

class PerDiskSizing final : public AioSizing {
public:
  static constexpr const char* policy_name = "per-disk";
  static constexpr const char* summary =
      "Queue length = per_disk_length (or each disk's own capacity) summed over the disks attached, capped.";
  static constexpr const char* params = "per_disk_length, min_length, max_length, resize_cpu";
  using AioSizing::AioSizing;
  const char* name() const override { return policy_name; }
  long long length(const SizingView& v, Why) override
  {
    if (p_.per_disk_length > 0)
      return p_.per_disk_length * static_cast<long long>(v.disks);
    return v.disks_capacity;
  }
};

class AdaptiveSizing final : public AioSizing {
public:
  static constexpr const char* policy_name = "adaptive";
  static constexpr const char* summary =
      "AIMD on the queue length: + step x disks while requests wait for it, x decrease when io_submit slept on a "
      "full host queue (aio=native) or capacity stays unused.";
  static constexpr const char* params =
      "sizing_interval, sizing_step, sizing_decrease, min_length, max_length, resize_cpu";
  using AioSizing::AioSizing;
  const char* name() const override { return policy_name; }
  bool periodic() const override { return true; }
  long long length(const SizingView& v, Why why) override
  {
    switch (why) {
    case Why::start:
      return v.fixed_length;
    case Why::attach:
    case Why::detach:
      if (v.disks_before == 0 or v.disks == 0)
        return v.disks == 0 ? v.length : v.fixed_length;
      return v.length * static_cast<long long>(v.disks) / static_cast<long long>(v.disks_before);
    case Why::interval:
      break;
    }
    if (v.submit_blocks and v.host_full > 0)
      return scaled(v.length, p_.sizing_decrease);
    if (v.waited > 0 and v.busy_fraction < busy_limit)
      return v.length + p_.sizing_step * static_cast<long long>(std::max<std::size_t>(v.disks, 1));
    if (v.waited == 0 and static_cast<long long>(v.peak_in_flight) * 2 < v.length)
      return std::max(scaled(v.length, p_.sizing_decrease), static_cast<long long>(v.peak_in_flight) * 2);
    return v.length;
  }

private:
  static constexpr double busy_limit = 0.95; // the AioContext's thread is the bottleneck beyond
};

PVSIM_REGISTER_AIO_SIZING(FixedSizing);
PVSIM_REGISTER_AIO_SIZING(PerDiskSizing);
PVSIM_REGISTER_AIO_SIZING(AdaptiveSizing);

} // namespace

void register_aio_sizing(AioSizingInfo info)
{
  sizing_registry().add(std::move(info));
}

std::vector<std::string> aio_sizing_names()
{
  return sizing_registry().names();
}

const AioSizingInfo* aio_sizing_info(const std::string& name)
{
  return sizing_registry().find(name);
}

std::unique_ptr<AioSizing> make_aio_sizing(const std::string& name, const AioSizingParams& p)
{
  return sizing_registry().get(name).make(p);
}

long long clamp_length(long long l, const SizingView& v)
{
  return std::clamp(l, v.lower, std::max(v.lower, v.upper));
}

} // namespace pvsim
