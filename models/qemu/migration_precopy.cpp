/* pvsim: pre-copy iterations (see migration_precopy.hpp for the sources and what is left out). */
#include "models/qemu/migration_precopy.hpp"

#include <algorithm>
#include <stdexcept>

namespace pvsim {

PrecopyParams PrecopyParams::defaults()
{
  PrecopyParams p;
  p.ram_bytes          = 4.0 * (1ull << 30);
  p.bandwidth          = 128.0 * (1 << 20);
  p.downtime_limit_s   = 0.3;
  p.dirty_rate         = 0;
  p.working_set_bytes  = 256.0 * (1 << 20);
  p.io_read_rate       = 0;
  p.io_buffer_bytes    = 0;
  p.max_iterations     = 30;
  p.device_state_bytes = 1 << 20;
  return p;
}

double dirtied_bytes(const PrecopyParams& p, double seconds)
{
  double background = std::min(p.dirty_rate * seconds, p.working_set_bytes);
  double dma        = std::min(p.io_read_rate * seconds, p.io_buffer_bytes);
  return std::min(background + dma, p.ram_bytes);
}

PrecopyResult run_precopy(const PrecopyParams& p)
{
  if (p.bandwidth <= 0)
    throw std::invalid_argument("pre-copy: bandwidth must be positive");
  PrecopyResult r;
  double threshold = p.bandwidth * p.downtime_limit_s;
  double pending   = p.ram_bytes;
  for (int i = 0; i < p.max_iterations; ++i) {
    double t = pending / p.bandwidth;
    r.sent_bytes.push_back(pending);
    r.duration_s += t;
    pending = dirtied_bytes(p, t); // migration_bitmap_sync after the iteration
    if (pending <= threshold) {
      r.converged = true;
      break;
    }
  }
  r.pending_bytes        = pending;
  r.estimated_downtime_s = (pending + p.device_state_bytes) / p.bandwidth;
  return r;
}

} // namespace pvsim
