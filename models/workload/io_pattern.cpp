#include "models/workload/io_pattern.hpp"

namespace pvsim {

IoGenerator::IoGenerator(const IoPattern& io) : io_(io)
{
  random_ = io.rw.rfind("rand", 0) == 0;
  mixed_  = io.rw == "rw" or io.rw == "readwrite" or io.rw == "randrw";
  blocks_ = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(io.size_bytes / io.bs_bytes));
}

void IoGenerator::fill(Request* r, Rng& rng)
{
  auto bs       = static_cast<std::uint64_t>(io_.bs_bytes);
  r->size_bytes = static_cast<std::uint32_t>(bs);
  if (mixed_)
    r->op = rng.uniform() * 100.0 < io_.rwmixread ? Op::read : Op::write;
  else
    r->op = (io_.rw == "read" or io_.rw == "randread") ? Op::read : Op::write;
  if (random_) {
    r->offset = rng.below(blocks_) * bs;
  } else {
    r->offset    = next_offset_;
    next_offset_ = (next_offset_ + bs) % (blocks_ * bs);
  }
}

} // namespace pvsim
