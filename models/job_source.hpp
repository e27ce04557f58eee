/* pvsim: what every job (source of requests) shares: fio's I/O pattern and the accounting of its requests.
 *
 * Models: fio's rw (read, write, randread, randwrite, rw/readwrite, randrw with rwmixread), bs, size (the file
 * the offsets fall in), number_ios, and the latency fio calls lat (submission to completion).
 * Leaves out: bssplit, zones, verify, file creation; offsets matter only to models that look at them. */
#pragma once

#include "sim/component.hpp"
#include "sim/params.hpp"
#include "sim/probe.hpp"
#include "sim/rng.hpp"
#include "sim/statistics.hpp"

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

class JobSource : public Component {
public:
  JobSource(std::string name, std::string type, const IoPattern& io);

  bool is_source() const override { return true; }
  bool accepts_requests() const override { return false; }
  void start(Simulation& sim) override;
  void end_io(Request* r, double enter_s) override;
  std::optional<Occupancy> occupancy() const override;
  const Probe<JobEvent>* job_probe() const override { return &done_; }
  void report(json& out, double now) const override;

protected:
  /** Creates and submits one request now; false when the job has stopped (end of run or number_ios). */
  bool issue();
  /** Called after a request of this job completed and was accounted. */
  virtual void completed(double now) = 0;
  bool stopped(double now) const;
  Simulation* sim_ = nullptr;
  Rng rng_;

private:
  IoPattern io_;
  bool random_               = true;
  bool mixed_                = false;
  int job_id_                = -1;
  Component* target_         = nullptr;
  std::uint64_t next_offset_ = 0;
  std::uint64_t submitted_   = 0;
  std::uint64_t completed_   = 0;
  std::uint64_t outstanding_ = 0;
  Probe<JobEvent> done_;
};

} // namespace pvsim
