/* pvsim: one I/O request as it travels through the stack, and the pool that recycles them.
 *
 * A component that must hear of a request's completion (a tag set, a ring slot, the job that issued it) pushes an
 * end_io frame, as bio_endio chains do; completing the request pops frames from the top. Frames live inside the
 * request, and requests are recycled by the pool: in steady state no request stage allocates memory.
 *
 * A frame is that layer's completion context (the kernel's bi_end_io + bi_private, and the clone a stacking driver
 * makes of a bio, block/bio.c: bio_alloc_clone(), bio_chain()). Besides the component and when the request entered it,
 * it saves the routing fields the layer had set when it pushed the frame (hardware queue, tag, submitting CPU); a
 * layer below may overwrite them with its own (dom0's blk-mq under xen-blkback picks a dom0 hctx and tag), and
 * popping the frame gives the layer back its own values before its end_io() runs. So any stack of layers runs: a
 * layer must only set the fields it reads back at completion before it pushes its frame. The timing field stage_s is
 * not saved: it always belongs to the stage the request is in now. */
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
  int queue;      // the request's routing fields when the component pushed the frame (restored when it pops)
  int tag;
  int cpu;
};

/** 64-byte aligned, with the fields every stage reads in its first cache line and the first two end_io frames in the
 * second: a request in flight costs the caches two or three lines, not the five to eight a packed one straddles. */
class alignas(64) Request {
public:
  static constexpr int max_frames = 12;

  std::uint64_t id         = 0;
  std::uint64_t offset     = 0;
  std::uint32_t size_bytes = 0;
  int job                  = -1; // index of the issuing job
  int queue                = -1; // hardware queue (hctx) index, when a model assigns one
  int tag                  = -1; // tag within that hardware queue
  int cpu                  = -1; // the guest CPU that submitted it (blk-mq maps it to a hardware queue)
  Op op                    = Op::read;

private:
  std::int8_t depth_ = 0; // end_io frames pushed (at most max_frames)

public:
  double submit_s = 0;       // when the job submitted it
  double stage_s  = 0;       // when it entered the queueing stage it is in now (one at a time)
  Request* next   = nullptr; // intrusive link for queues and the free list

  /** Pushes the caller's completion context (throws std::logic_error past max_frames: a stack deeper than any real
   * one, i.e. a loop in the wiring that validation missed). */
  void push_end_io(Component* c, double now);
  /** Completes the request at the current stage: the top frame is popped, the request's queue, tag and cpu become
   * what they were when that frame was pushed, and its component is told. */
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
};
static_assert(sizeof(Request) == 64 + Request::max_frames * sizeof(EndIoFrame), "the hot fields fill one line");

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
  /** Back to the front (a request taken and put back, as Firecracker's undo_pop). */
  void push_front(Request* r)
  {
    r->next = head_;
    head_   = r;
    if (not tail_)
      tail_ = r;
    size_++;
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
