/* pvsim: fio's I/O pattern, shared by every job model: rw (read, write, randread, randwrite, rw/readwrite, randrw
 * with rwmixread), bs, size (the file the offsets fall in), number_ios; and the generator that fills requests.
 * Leaves out: bssplit, zones, verify, file creation; offsets matter only to models that look at them. */
#pragma once

#include "sim/params.hpp"
#include "sim/request.hpp"
#include "sim/rng.hpp"

namespace pvsim {

struct IoPattern {
  std::string rw       = "read";
  double rwmixread     = 50;
  double bs_bytes      = 4096;
  double size_bytes    = 1073741824;
  long long number_ios = 0;
  std::string target;
};

/** Adds the I/O pattern's fields to a job model's ParamTable. */
template <class P>
void describe_io_pattern(ParamTable<P>& t)
{
  t.choice("rw", &P::rw, {"read", "write", "randread", "randwrite", "rw", "readwrite", "randrw"}, std::string("read"),
           "Access pattern, as fio's rw.", "fio rw=read")
      .number("rwmixread", &P::rwmixread, 50.0, 0, 100, "Percentage of reads in a mixed workload.", "fio rwmixread=50")
      .quantity("bs", Dimension::size, &P::bs_bytes, 4096.0, 512, 1073741824, "Block size of every request.",
                "fio bs=4k")
      .quantity("size", Dimension::size, &P::size_bytes, 1073741824.0, 512, 1e18,
                "Size of the file or device the offsets fall in.", "pvsim: 1 GiB")
      .integer("number_ios", &P::number_ios, 0, 0, std::numeric_limits<long long>::max(),
               "Stop after this many requests (0: until the end of the run).", "fio number_ios=0")
      .ref("target", &P::target, true, "Where requests go: a queue, a driver or a device.");
}

/** Fills requests with the pattern's direction, size and offset. */
class IoGenerator {
public:
  explicit IoGenerator(const IoPattern& io);
  void fill(Request* r, Rng& rng);

private:
  IoPattern io_;
  bool random_               = true;
  bool mixed_                = false;
  std::uint64_t blocks_      = 1;
  std::uint64_t next_offset_ = 0;
};

} // namespace pvsim
