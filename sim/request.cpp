#include "sim/request.hpp"

#include "sim/component.hpp"

namespace pvsim {

void Request::end_io()
{
  EndIoFrame f = frames_[--depth_];
  f.component->end_io(this, f.enter_s);
}

Request* RequestPool::get()
{
  if (not free_) {
    constexpr std::size_t block = 1024;
    blocks_.push_back(std::make_unique<Request[]>(block));
    Request* b = blocks_.back().get();
    for (std::size_t i = 0; i < block; ++i) {
      b[i].next = free_;
      free_     = &b[i];
    }
    allocated_ += block;
  }
  Request* r = free_;
  free_      = r->next;
  r->reset();
  r->id = next_id_++;
  outstanding_++;
  return r;
}

void RequestPool::put(Request* r)
{
  r->next = free_;
  free_   = r;
  outstanding_--;
}

} // namespace pvsim
