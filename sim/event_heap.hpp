/* pvsim: the pending events of the event queue, in a radix heap (a monotone priority queue) with a sorted front.
 *
 * A discrete-event simulator only ever schedules at or after the present, so its keys never go below the last one
 * taken: the case a radix heap (Ahuja, Mehlhorn, Orlin, Tarjan 1990) serves in O(1) per insertion and amortized
 * O(log C) per extraction, where C is the key range. Keys are the times' IEEE-754 bit patterns (for non-negative
 * doubles their order is the numbers' order). Bucket i > 0 holds the keys whose highest bit differing from the base
 * (no pending key is below it) is bit i-1, so every key of a bucket is below every key of a higher one.
 *
 * The front: the events to run next, in order, every one of them below every event in a bucket. When it is empty,
 * the lowest non-empty bucket's minimum becomes the base and that bucket goes to the front: a few events (up to
 * front_limit) sorted there directly, more spread over the lower buckets (the keys equal to the base into the front).
 * An event scheduled inside the front's range is inserted there in order, and a front that grows past front_limit
 * goes back to the buckets. Sorting a few events, rather than spreading them down bucket after bucket, is what a
 * narrow stack needs: on the Xen stack most buckets taken hold 2-10 events, which spreading moved about 2.3 times
 * each (issue 20: the Xen stack's rate).
 *
 * Ties. Events are appended to a bucket in the order scheduled, a spread keeps that order, the front's sort is
 * stable and an insertion goes behind the events of the same time: events run in time order and, at equal times, in
 * the order scheduled, as a binary heap keyed by (time, sequence number) would run them, without the sequence number.
 * Against that heap, no comparison walks down log2(n) levels of a large array: the cost per event stays flat as
 * thousands of events are pending (issue 20's cost curves). */
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
  void push(double when_s, const Payload& p) { emplace(when_s, p); }
  /** push() with the payload built in place from `a`: stored field by field, never built elsewhere and copied whole
   * (a copy that reads back what was just stored in pieces waits for the stores). */
  template <class... A>
  void emplace(double when_s, A... a)
  {
    std::uint64_t k = key_of(when_s);
    if (k < last_)
      k = last_;
    ++size_;
    if (head_ < front_.size() and k <= front_.back().key) {
      if (k < front_.back().key and front_.size() - head_ > front_limit)
        spill_front(); // grown long: back into the buckets, and the new event after them
      else {
        Item& slot = front_slot_for(k); // behind the events of the same time or earlier
        slot.key   = k;
        slot.p     = Payload{a...};
        return;
      }
    }
    if (k == base_) { // only while the front is empty: base_ is then the last key taken
      front_.emplace_back(k, Payload{a...});
      return;
    }
    bucket_for(k).items.emplace_back(k, Payload{a...});
  }

  /** The earliest pending time (the heap must not be empty). */
  double min_time() const { return time_of(min_key()); }
  /** The earliest event's payload (the heap must not be empty); the next one's, to prefetch what it will touch. */
  const Payload* peek_next_in_line() const { return head_ < front_.size() ? &front_[head_].p : nullptr; }

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
    if (head_ >= front_.size())
      refill();
    const Item& it = front_[head_];
    out            = it.p;
    last_          = it.key;
    ++head_;
    --size_;
    if (head_ == front_.size()) {
      front_.clear();
      head_ = 0;
    }
    return time_of(last_);
  }

  void clear()
  {
    for (Bucket& b : buckets_) {
      b.items.clear();
      b.min = std::numeric_limits<std::uint64_t>::max();
    }
    front_.clear();
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
  /** A bucket of at most this many events is sorted into the front rather than spread; the front takes events in
   * its range by sorted insertion while it holds at most this many. */
  static constexpr std::size_t front_limit = 16;

  /** The earliest pending key: the front's first, else the lowest bucket's minimum. */
  std::uint64_t min_key() const { return head_ < front_.size() ? front_[head_].key : buckets_[lowest_occupied()].min; }

  /** The bucket of a key above base_: one plus the highest bit where it differs from base_. */
  int bucket_of(std::uint64_t k) const { return 64 - std::countl_zero(k ^ base_); }

  /** The bucket of a key above base_, marked occupied (its minimum updated) for the event about to go in. */
  Bucket& bucket_for(std::uint64_t k)
  {
    int b = bucket_of(k);
    if (k < buckets_[b].min)
      buckets_[b].min = k;
    if (b == 64)
      occupied_hi_ = true;
    else
      occupied_ |= std::uint64_t{1} << b;
    return buckets_[b];
  }

  /** The slot of the front where an event at `k` goes, behind the events at `k` or earlier (the later ones moved
   * back one, walking from the back, where new events land); the caller fills it. */
  Item& front_slot_for(std::uint64_t k)
  {
    std::size_t i = front_.size();
    front_.emplace_back();
    for (; i > head_ and front_[i - 1].key > k; --i)
      front_[i] = front_[i - 1];
    return front_[i];
  }

  /** An event after every event of the front, or any event while the front is empty. */
  void push_bucket(const Item& it)
  {
    if (it.key == base_) // only while the front is empty: base_ is then the last key taken
      front_.push_back(it);
    else
      bucket_for(it.key).items.push_back(it);
  }

  int lowest_occupied() const
  {
    if (occupied_ != 0)
      return std::countr_zero(occupied_);
    if (occupied_hi_)
      return 64;
    throw std::logic_error("EventHeap: empty");
  }

  /** The front has grown past front_limit: its events go back into the buckets (relative to base_, below which no
   * event is), in order, those at base_ staying in front. */
  void spill_front()
  {
    spread_.assign(front_.begin() + static_cast<std::ptrdiff_t>(head_), front_.end());
    front_.clear();
    head_ = 0;
    for (const Item& it : spread_)
      push_bucket(it);
    spread_.clear();
  }

  /** The front is empty: the lowest non-empty bucket's minimum becomes the base, and that bucket is sorted into the
   * front (a few events) or spread over the lower buckets (many). */
  void refill()
  {
    front_.clear();
    head_        = 0;
    int b        = lowest_occupied();
    Bucket& from = buckets_[b];
    base_        = from.min;
    spread_.swap(from.items);
    from.min = std::numeric_limits<std::uint64_t>::max();
    if (b == 64)
      occupied_hi_ = false;
    else
      occupied_ &= ~(std::uint64_t{1} << b);
    if (spread_.size() <= front_limit) {
      for (const Item& it : spread_) // a stable insertion sort: equal times keep their scheduling order
        front_slot_for(it.key) = it;
      spread_.clear();
      return;
    }
    for (const Item& it : spread_) // in order: each lower bucket receives its events in scheduling order
      push_bucket(it);
    spread_.clear();
  }

  std::array<Bucket, 65> buckets_; // bucket 0 unused: the keys equal to base_ are in the front
  std::vector<Item> front_;        // sorted, from head_: every key here is below every key in a bucket
  std::vector<Item> spread_;       // the bucket being spread (its storage swapped back and forth)
  std::uint64_t base_     = 0;     // the buckets' reference: no pending key is below it
  std::uint64_t last_     = 0;     // the last key taken
  std::size_t head_       = 0;     // next event of the front
  std::size_t size_       = 0;
  std::uint64_t occupied_ = 0;     // bit i: bucket i (< 64) is not empty
  bool occupied_hi_       = false; // bucket 64 is not empty
};

} // namespace pvsim
