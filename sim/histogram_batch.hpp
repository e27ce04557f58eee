/* pvsim: latencies recorded into their histograms a batch at a time, so that the buckets' cache misses overlap.
 *
 * Every completed request adds a latency to several histograms (its job's, each queue's it went through). In a wide
 * stack (hundreds of queues and jobs) those histograms' buckets are no longer in the caches, and each record waits
 * for a line from memory in the middle of an event. The collectors hand their values to one batch instead; the batch
 * records them in the order given, a few hundred at a time, prefetching the histograms and buckets of the values
 * ahead. The result is the histograms a direct record would give, bit for bit (each histogram sees its values in
 * the same order).
 *
 * A histogram must not be read or reset while values for it wait in the batch: its owner flushes the batch first
 * (the collectors do it in restart() and report()). Values still waiting when the batch is destroyed are dropped:
 * their histograms may be gone by then. */
#pragma once

#include "sim/latency_histogram.hpp"

#include <array>
#include <cstddef>

namespace pvsim {

class HistogramBatch {
public:
  HistogramBatch()                                 = default;
  HistogramBatch(const HistogramBatch&)            = delete;
  HistogramBatch& operator=(const HistogramBatch&) = delete;

  /** Records `seconds` into `h` at the next flush (at the latest when the batch is full), or at once when batching is
   * off. */
  void record(LatencyHistogram& h, double seconds)
  {
    if (not batching_) {
      h.record(seconds);
      return;
    }
    if (n_ == items_.size())
      flush();
    items_[n_++] = {&h, seconds, LatencyHistogram::index_of_seconds(seconds)};
  }

  /** Records every waiting value, in the order given. */
  void flush();

  std::size_t waiting() const { return n_; }

  /** Batching costs a few percent where every bucket is in the caches anyway (a narrow stack): off by default. The
   * simulation turns it on when its histograms outgrow them. Either way the histograms come out the same. */
  void set_batching(bool on)
  {
    flush();
    batching_ = on;
  }

private:
  struct Item {
    LatencyHistogram* h;
    double seconds;
    std::size_t index; // of its bucket
  };
  std::array<Item, 512> items_{};
  std::size_t n_ = 0;
  bool batching_ = false;
};

} // namespace pvsim
