#include "sim/histogram_batch.hpp"

namespace pvsim {

void HistogramBatch::flush()
{
  constexpr std::size_t header_ahead = 32; // the histogram's header (its bucket window) first...
  constexpr std::size_t bucket_ahead = 16; // ... then, once it is in, the bucket itself
  for (std::size_t i = 0; i < n_; ++i) {
    if (i + header_ahead < n_)
      __builtin_prefetch(items_[i + header_ahead].h);
    if (i + bucket_ahead < n_)
      items_[i + bucket_ahead].h->prefetch_bucket(items_[i + bucket_ahead].index);
    items_[i].h->record_at(items_[i].index, items_[i].seconds);
  }
  n_ = 0;
}

} // namespace pvsim
