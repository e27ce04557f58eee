/* pvsim: the pending events of the event queue, in a radix heap (a monotone priority queue).
 *
 * A discrete-event simulator only ever schedules at or after the present, so its keys never go below the last one
 * taken: the case a radix heap (Ahuja, Mehlhorn, Orlin, Tarjan 1990) serves in O(1) per insertion and amortized
 * O(log C) per extraction, where C is the key range. Keys are the times' IEEE-754 bit patterns (for non-negative
 * doubles their order is the numbers' order). Bucket 0 holds the keys equal to the last key taken; bucket i > 0 those
 * whose highest bit differing from it is bit i-1, so every key of a bucket is below every key of a higher one. Taking
 * the minimum from bucket 0 is a step along it; otherwise the lowest non-empty bucket's minimum becomes the last key
 * and that bucket is spread over the lower ones (each event moves down a few times at most in its life).
 *
 * Ties. Events are appended to a bucket in the order scheduled, and a bucket spread into lower (then empty) buckets
 * keeps its order, so every bucket stays in scheduling order, and equal times always share a bucket: events run in
 * time order and, at equal times, in the order scheduled, as a binary heap keyed by (time, sequence number) would
 * run them, without the sequence number. Against that heap, no comparison walks down log2(n) levels of a large array:
 * the cost per event stays flat as thousands of events are pending (issue 20's cost curves). */
#pragma once

#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <vector>

namespace pvsim {

template <class Payload>
class EventHeap {
public:
  /** The key of a time in seconds (>= 0). */
  static std::uint64_t key_of(double t)
  {
    t += 0.0; // -0.0 becomes +0.0
    std::uint64_t k;
    std::memcpy(&k, &t, sizeof k);
    return k;
  }
  static double time_of(std::uint64_t k)
  {
    double t;
    std::memcpy(&t, &k, sizeof t);
    return t;
  }

  bool empty() const { return size_ == 0; }
  std::size_t size() const { return size_; }

  /** Adds an event at `when_s`, which must not be before the last time taken (it is raised to it otherwise). */
  void push(double when_s, const Payload& p)
  {
    std::uint64_t k = key_of(when_s);
    if (k < last_)
      k = last_;
    int b = bucket_of(k);
    buckets_[b].items.push_back(Item{k, p});
    if (k < buckets_[b].min)
      buckets_[b].min = k;
    if (b == 64)
      occupied_hi_ = true;
    else
      occupied_ |= std::uint64_t{1} << b;
    ++size_;
  }

  /** The earliest pending time (the heap must not be empty). */
  double min_time() const { return time_of(min_key()); }
  /** The earliest event's payload (the heap must not be empty); the next one's, to prefetch what it will touch. */
  const Payload* peek_next_in_line() const
  {
    return head_ < buckets_[0].items.size() ? &buckets_[0].items[head_].p : nullptr;
  }

  /** Takes the earliest event into `out` and gives its time, if it is due at `until_s` or before; false otherwise. */
  bool pop_due(double until_s, Payload& out, double& when_s)
  {
    if (size_ == 0 or min_key() > key_of(until_s))
      return false;
    when_s = pop(out);
    return true;
  }

  /** Takes the earliest event (the heap must not be empty): its time and payload. */
  double pop(Payload& out)
  {
    if (head_ >= buckets_[0].items.size())
      refill();
    out = buckets_[0].items[head_].p;
    ++head_;
    --size_;
    if (head_ == buckets_[0].items.size()) {
      buckets_[0].items.clear();
      buckets_[0].min = std::numeric_limits<std::uint64_t>::max();
      head_           = 0;
      occupied_ &= ~std::uint64_t{1};
    }
    return time_of(last_);
  }

  void clear()
  {
    for (Bucket& b : buckets_) {
      b.items.clear();
      b.min = std::numeric_limits<std::uint64_t>::max();
    }
    head_        = 0;
    size_        = 0;
    occupied_    = 0;
    occupied_hi_ = false;
  }

private:
  struct Item {
    std::uint64_t key;
    Payload p;
  };
  struct Bucket {
    std::vector<Item> items;
    std::uint64_t min = std::numeric_limits<std::uint64_t>::max();
  };

  /** The earliest pending key: the last key taken while bucket 0 has events, else the lowest bucket's minimum. */
  std::uint64_t min_key() const { return head_ < buckets_[0].items.size() ? last_ : buckets_[lowest_occupied()].min; }

  int bucket_of(std::uint64_t k) const { return k == last_ ? 0 : 64 - std::countl_zero(k ^ last_); }

  int lowest_occupied() const
  {
    if (occupied_ != 0)
      return std::countr_zero(occupied_);
    if (occupied_hi_)
      return 64;
    throw std::logic_error("EventHeap: empty");
  }

  /** Bucket 0 is empty: the lowest non-empty bucket's minimum becomes the last key, and that bucket is spread. */
  void refill()
  {
    int b        = lowest_occupied();
    Bucket& from = buckets_[b];
    last_        = from.min;
    spread_.swap(from.items);
    from.min = std::numeric_limits<std::uint64_t>::max();
    if (b == 64)
      occupied_hi_ = false;
    else
      occupied_ &= ~(std::uint64_t{1} << b);
    if (spread_.size() == 1) { // the common case: the earliest event alone in its bucket
      buckets_[0].items.push_back(spread_.front());
      buckets_[0].min = last_;
      occupied_ |= 1;
      spread_.clear();
      return;
    }
    for (const Item& it : spread_) { // in order: each lower bucket receives its events in scheduling order
      int nb = bucket_of(it.key);
      buckets_[nb].items.push_back(it);
      if (it.key < buckets_[nb].min)
        buckets_[nb].min = it.key;
      occupied_ |= std::uint64_t{1} << nb; // nb < b <= 64
    }
    spread_.clear();
  }

  std::array<Bucket, 65> buckets_;
  std::vector<Item> spread_; // the bucket being spread (its storage swapped back and forth, never reallocated twice)
  std::uint64_t last_     = 0;
  std::size_t head_       = 0; // next event of bucket 0
  std::size_t size_       = 0;
  std::uint64_t occupied_ = 0;     // bit i: bucket i (< 64) is not empty
  bool occupied_hi_       = false; // bucket 64 is not empty
};

} // namespace pvsim
