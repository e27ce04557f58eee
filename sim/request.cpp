#include "sim/request.hpp"

#include "sim/component.hpp"

#include <stdexcept>
#include <string>

namespace pvsim {

void Request::push_end_io(Component* c, double now)
{
  if (depth_ == max_frames)
    throw std::logic_error("request " + std::to_string(id) + ": more than " + std::to_string(max_frames) +
                           " stacked layers (is there a loop in the wiring?)");
  frames_[depth_++] = {c, now, queue, tag, cpu};
}

void Request::end_io()
{
  if (depth_ == 0)
    throw std::logic_error("request " + std::to_string(id) + ": end_io with no completion context left");
  const EndIoFrame f = frames_[--depth_]; // a copy: the component may push again into this slot
  queue              = f.queue;
  tag                = f.tag;
  cpu                = f.cpu;
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
