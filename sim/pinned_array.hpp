/* pvsim: a fixed number of objects that never move, side by side in one allocation.
 *
 * A model's per-queue parts (a blkif ring, a hardware context, a vCPU) are built once, when the number of queues is
 * known, and are referred to by address from then on (collectors, threads, locks), so they cannot live in a
 * std::vector, which moves its elements as it grows. A vector of unique_ptr keeps them in place, at the cost of one
 * more cache line per access: the pointer's, apart from both the owner and the object. On a wide host (hundreds of
 * guests, each one's lines long gone from the cache when its next request comes) that line is a miss on every event
 * that reaches the part (issue 20's guest curve). Here the parts lie one after the other in one block, sized before
 * the first is built: the owner holds the block's address, and part i is at a fixed offset from it. */
#pragma once

#include <cstddef>
#include <new>
#include <stdexcept>
#include <string>
#include <utility>

namespace pvsim {

template <class T>
class PinnedArray {
public:
  PinnedArray()                              = default;
  PinnedArray(const PinnedArray&)            = delete;
  PinnedArray& operator=(const PinnedArray&) = delete;
  /** Taking over a block moves no element: their addresses stay valid. */
  PinnedArray(PinnedArray&& o) noexcept { take(o); }
  PinnedArray& operator=(PinnedArray&& o) noexcept
  {
    if (this != &o) {
      clear();
      take(o);
    }
    return *this;
  }
  ~PinnedArray() { clear(); }

  /** Destroys the elements and makes room for `capacity` of them, to be built by emplace_back(). */
  void reset(std::size_t capacity)
  {
    clear();
    if (capacity > 0)
      data_ = static_cast<T*>(::operator new (capacity * sizeof(T), std::align_val_t{alignof(T)}));
    cap_ = capacity;
  }
  /** Builds the next element in place; past the capacity given to reset(), a logic error (the block never grows). */
  template <class... A>
  T& emplace_back(A&&... a)
  {
    if (size_ == cap_)
      throw std::logic_error("PinnedArray: " + std::to_string(cap_) + " elements were reserved, one more was built");
    T* p = ::new (static_cast<void*>(data_ + size_)) T(std::forward<A>(a)...);
    ++size_;
    return *p;
  }

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  T& operator[](std::size_t i) { return data_[i]; }
  const T& operator[](std::size_t i) const { return data_[i]; }
  T& at(std::size_t i) { return data_[checked(i)]; }
  const T& at(std::size_t i) const { return data_[checked(i)]; }
  T& back() { return data_[size_ - 1]; }
  T* begin() { return data_; }
  T* end() { return data_ + size_; }
  const T* begin() const { return data_; }
  const T* end() const { return data_ + size_; }

private:
  std::size_t checked(std::size_t i) const
  {
    if (i >= size_) [[unlikely]]
      out_of_range(i);
    return i;
  }
  /** Kept out of line, so that the check inlines at every at(). */
  [[noreturn, gnu::noinline, gnu::cold]] void out_of_range(std::size_t i) const
  {
    throw std::out_of_range("PinnedArray: index " + std::to_string(i) + " of " + std::to_string(size_));
  }
  /** Destroys the elements, last built first, and frees the block. */
  void clear()
  {
    while (size_ > 0)
      data_[--size_].~T();
    if (data_ != nullptr)
      ::operator delete (static_cast<void*>(data_), std::align_val_t{alignof(T)});
    data_ = nullptr;
    cap_  = 0;
  }
  void take(PinnedArray& o)
  {
    data_ = std::exchange(o.data_, nullptr);
    size_ = std::exchange(o.size_, 0);
    cap_  = std::exchange(o.cap_, 0);
  }

  T* data_          = nullptr;
  std::size_t size_ = 0;
  std::size_t cap_  = 0;
};

} // namespace pvsim
