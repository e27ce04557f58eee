/* pvsim: a FIFO of small values in one growable circular buffer.
 *
 * What a CpuThread's work list needs: append, take from the front, put back at the front, and insert a few places
 * behind the front (post_next: the rest of a running code path goes before work others queued). One contiguous block
 * per queue (at most 2^31 items), doubled when full and never shrunk: no allocation in steady state, and the few items
 * a thread has queued sit in one or two cache lines (a std::deque allocates a 512-byte block per queue and walks a map
 * of blocks). An emptied queue starts again at the block's first slot: a queue that fills and drains keeps using the
 * same lines instead of walking its whole block, which with a thousand threads' queues is a cache miss per item. */
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>

namespace pvsim {

template <class T>
class RingQueue {
public:
  bool empty() const { return size_ == 0; }
  std::size_t size() const { return size_; }
  T& front() { return buf_[head_]; }
  const T& front() const { return buf_[head_]; }
  /** The i-th item from the front. */
  T& operator[](std::size_t i) { return buf_[(head_ + i) & mask_]; }

  void push_back(const T& v) { push_back_slot() = v; }
  /** A new last item, to be filled in place. */
  T& push_back_slot()
  {
    grow_if_full();
    return buf_[(head_ + size_++) & mask_];
  }
  void push_front(const T& v)
  {
    grow_if_full();
    head_       = (head_ + mask_) & mask_;
    buf_[head_] = v;
    ++size_;
  }
  /** Inserts `v` so that it becomes the i-th item from the front (i <= size()); the items from i on move back. */
  void insert_at(std::size_t i, const T& v) { insert_slot_at(i) = v; }
  /** Makes room so that a new item becomes the i-th from the front (i <= size()), to be filled in place. */
  T& insert_slot_at(std::size_t i)
  {
    grow_if_full();
    for (std::size_t k = size_; k > i; --k)
      buf_[(head_ + k) & mask_] = std::move(buf_[(head_ + k - 1) & mask_]);
    ++size_;
    return buf_[(head_ + i) & mask_];
  }
  void pop_front()
  {
    head_ = (head_ + 1) & mask_;
    if (--size_ == 0)
      head_ = 0; // emptied: the next items go to the same first lines, which are likely still in cache
  }
  void clear()
  {
    head_ = 0;
    size_ = 0;
  }

private:
  void grow_if_full()
  {
    if (size_ < cap_) [[likely]]
      return;
    grow();
  }
  [[gnu::noinline]] void grow()
  {
    std::uint32_t cap           = cap_ == 0 ? 8 : cap_ * 2;
    std::unique_ptr<T[]> bigger = std::make_unique<T[]>(cap);
    for (std::size_t k = 0; k < size_; ++k)
      bigger[k] = std::move(buf_[(head_ + k) & mask_]);
    buf_  = std::move(bigger);
    head_ = 0;
    cap_  = cap;
    mask_ = cap_ - 1;
  }

  // 24 bytes: the queue sits among the hot fields of the objects that hold it (a CpuThread's first cache lines).
  std::unique_ptr<T[]> buf_;
  std::uint32_t head_ = 0;
  std::uint32_t size_ = 0;
  std::uint32_t mask_ = 0;
  std::uint32_t cap_  = 0;
};

} // namespace pvsim
