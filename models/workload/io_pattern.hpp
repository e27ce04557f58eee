/* pvsim: fio's I/O pattern, shared by every job model: rw (read, write, randread, randwrite, rw/readwrite, randrw
 * with rwmixread), bs, bsrange (fio HOWTO "bsrange": sizes drawn between bs and bsrange_max; fio's io_u.c
 * get_next_buflen draws minbs + maxbs * u, aligned down to minbs and capped at maxbs: uniform among the multiples of
 * bs when bsrange_max is one), bssplit (fio HOWTO "bssplit": sizes with their
 * percentages, one list for reads and writes alike), size (the file the offsets fall in), number_ios; and the
 * generator that fills requests.
 * Leaves out: per-direction bsrange/bssplit, zones, verify, file creation; offsets matter only to models that look at
 * them. */
#pragma once

#include "sim/params.hpp"
#include "sim/request.hpp"
#include "sim/rng.hpp"

namespace pvsim {

struct IoPattern {
  std::string rw           = "read";
  double rwmixread         = 50;
  double bs_bytes          = 4096;
  double size_bytes        = 1073741824;
  long long number_ios     = 0;
  double bsrange_max_bytes = 0;           // 0: every request is bs
  std::vector<long long> bssplit_bytes;   // empty: bs (or bsrange)
  std::vector<long long> bssplit_percent; // each size's share, adding up to 100
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
      .quantity("bsrange_max", Dimension::size, &P::bsrange_max_bytes, 0.0, 0, 1073741824,
                "Largest block size: each request's size is drawn uniformly among the multiples of bs up to it (0: "
                "every request is bs).",
                "fio bsrange (unset)")
      .integers("bssplit_bytes", &P::bssplit_bytes, 512, 1073741824,
                "Block sizes of a split, in bytes (with bssplit_percent; empty: bs).", "fio bssplit (unset)")
      .integers("bssplit_percent", &P::bssplit_percent, 0, 100,
                "Share of the requests of each size of bssplit_bytes, in percent, adding up to 100.",
                "fio bssplit (unset)")
      .check([](const P& p, const JsonNode& obj) {
        if (p.bssplit_bytes.size() != p.bssplit_percent.size())
          obj.fail("bssplit_bytes and bssplit_percent must have as many entries (" +
                   std::to_string(p.bssplit_bytes.size()) + " and " + std::to_string(p.bssplit_percent.size()) + ")");
        long long sum = 0;
        for (long long x : p.bssplit_percent)
          sum += x;
        if (not p.bssplit_bytes.empty() and sum != 100)
          obj.fail("bssplit_percent must add up to 100, got " + std::to_string(sum));
        if (p.bsrange_max_bytes > 0 and p.bsrange_max_bytes < p.bs_bytes)
          obj.fail("bsrange_max must be at least bs");
        if (p.bsrange_max_bytes > 0 and not p.bssplit_bytes.empty())
          obj.fail("give bsrange_max or bssplit_bytes, not both");
      })
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
  std::vector<std::pair<double, std::uint64_t>> split_; // cumulative share (0-100] -> size
  std::uint64_t range_steps_ = 1;                       // bsrange: sizes bs * 1 .. bs * range_steps_
  std::uint64_t size_of_next(Rng& rng);
};

} // namespace pvsim
