/* pvsim: one I/O request as it travels through the stack, and the pool that recycles them.
 *
 * A component that must hear of a request's completion (a tag set, a ring slot, the job that issued it) pushes an
 * end_io frame, as bio_endio chains do; completing the request pops frames from the top. Frames live inside the
 * request, and requests are recycled by the pool: in steady state no request stage allocates memory. */
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

namespace pvsim {

class Component;

enum class Op : std::uint8_t { read, write };

struct EndIoFrame {
  Component* component;
  double enter_s; // when the request entered that component
};

class Request {
public:
  static constexpr int max_frames = 12;

  std::uint64_t id         = 0;
  Op op                    = Op::read;
  std::uint32_t size_bytes = 0;
  std::uint64_t offset     = 0;
  int job                  = -1;      // index of the issuing job
  int queue                = -1;      // hardware queue (hctx) index, when a model assigns one
  int tag                  = -1;      // tag within that hardware queue
  int cpu                  = -1;      // the guest CPU that submitted it (blk-mq maps it to a hardware queue)
  double submit_s          = 0;       // when the job submitted it
  double stage_s           = 0;       // when it entered the queueing stage it is in now (one at a time)
  Request* next            = nullptr; // intrusive link for queues and the free list

  void push_end_io(Component* c, double now) { frames_[depth_++] = {c, now}; }
  /** Completes the request at the current stage: the top frame's component is told. */
  void end_io();
  int depth() const { return depth_; }
  const EndIoFrame& top() const { return frames_[depth_ - 1]; }
  void reset()
  {
    depth_ = 0;
    next   = nullptr;
    queue  = -1;
    tag    = -1;
    cpu    = -1;
  }

private:
  EndIoFrame frames_[max_frames];
  int depth_ = 0;
};

/** Allocates requests in blocks and recycles them; counts what is outstanding, independently of the models. */
class RequestPool {
public:
  Request* get();
  void put(Request* r);
  std::uint64_t outstanding() const { return outstanding_; }
  std::uint64_t allocated() const { return allocated_; }

private:
  std::vector<std::unique_ptr<Request[]>> blocks_;
  Request* free_             = nullptr;
  std::uint64_t outstanding_ = 0;
  std::uint64_t allocated_   = 0;
  std::uint64_t next_id_     = 0;
};

/** An intrusive FIFO of requests (no allocation). */
class RequestFifo {
public:
  void push(Request* r)
  {
    r->next = nullptr;
    if (tail_)
      tail_->next = r;
    else
      head_ = r;
    tail_ = r;
    size_++;
  }
  Request* pop()
  {
    Request* r = head_;
    if (r) {
      head_ = r->next;
      if (not head_)
        tail_ = nullptr;
      r->next = nullptr;
      size_--;
    }
    return r;
  }
  Request* front() const { return head_; }
  bool empty() const { return head_ == nullptr; }
  std::size_t size() const { return size_; }

private:
  Request* head_    = nullptr;
  Request* tail_    = nullptr;
  std::size_t size_ = 0;
};

} // namespace pvsim
