#include "models/workload/io_pattern.hpp"

namespace pvsim {

IoGenerator::IoGenerator(const IoPattern& io) : io_(io)
{
  random_           = io.rw.rfind("rand", 0) == 0;
  mixed_            = io.rw == "rw" or io.rw == "readwrite" or io.rw == "randrw";
  blocks_           = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(io.size_bytes / io.bs_bytes));
  double cumulative = 0;
  for (std::size_t i = 0; i < io.bssplit_bytes.size(); ++i) {
    cumulative += static_cast<double>(io.bssplit_percent[i]);
    split_.emplace_back(cumulative, static_cast<std::uint64_t>(io.bssplit_bytes[i]));
  }
  if (io.bsrange_max_bytes > io.bs_bytes)
    range_steps_ = static_cast<std::uint64_t>(io.bsrange_max_bytes / io.bs_bytes);
}

std::uint64_t IoGenerator::size_of_next(Rng& rng)
{
  auto bs = static_cast<std::uint64_t>(io_.bs_bytes);
  if (not split_.empty()) {
    double u = rng.uniform() * 100.0;
    for (const auto& [upto, size] : split_)
      if (u < upto)
        return size;
    return split_.back().second;
  }
  if (range_steps_ > 1)
    return bs * (1 + rng.below(range_steps_));
  return bs;
}

void IoGenerator::fill(Request* r, Rng& rng)
{
  const bool fixed = split_.empty() and range_steps_ == 1;
  auto bs          = fixed ? static_cast<std::uint64_t>(io_.bs_bytes) : size_of_next(rng);
  r->size_bytes    = static_cast<std::uint32_t>(bs);
  if (mixed_)
    r->op = rng.uniform() * 100.0 < io_.rwmixread ? Op::read : Op::write;
  else
    r->op = (io_.rw == "read" or io_.rw == "randread") ? Op::read : Op::write;
  if (random_) {
    r->offset = rng.below(blocks_) * static_cast<std::uint64_t>(io_.bs_bytes);
  } else {
    r->offset    = next_offset_;
    next_offset_ = (next_offset_ + bs) % (blocks_ * static_cast<std::uint64_t>(io_.bs_bytes));
  }
}

} // namespace pvsim
