#include "models/linux/mq_deadline.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace pvsim {

namespace {

bool sort_before(const Request* a, const Request* b)
{
  return a->offset != b->offset ? a->offset < b->offset : a->id < b->id;
}

int dir_of(Op op)
{
  return op == Op::write ? 1 : 0;
}

} // namespace

MqDeadline::MqDeadline(const MqDeadlineTunables& t, int hctxs, int nr_requests)
    : t_(t), nr_requests_(nr_requests), in_dd_(static_cast<std::size_t>(hctxs) * nr_requests, 0)
{
  for (auto& d : dir_)
    d.sorted.reserve(in_dd_.size());
}

void MqDeadline::insert(Request* r, double now_s)
{
  if (r->queue < 0 or r->tag < 0 or r->tag >= nr_requests_)
    throw std::logic_error("MqDeadline::insert: the request holds no scheduler tag");
  Direction& d = dir_[dir_of(r->op)];
  d.sorted.insert(std::upper_bound(d.sorted.begin(), d.sorted.end(), r, sort_before), r);
  d.fifo.push_back({r, r->id, now_s + (r->op == Op::write ? t_.write_expire_s : t_.read_expire_s)});
  in_dd_[static_cast<std::size_t>(r->queue) * nr_requests_ + r->tag] = r->id + 1;
}

bool MqDeadline::is_queued(const Request* r, std::uint64_t id) const
{
  if (r->id != id or r->queue < 0 or r->tag < 0 or r->tag >= nr_requests_)
    return false; // recycled since
  return in_dd_[static_cast<std::size_t>(r->queue) * nr_requests_ + r->tag] == id + 1;
}

const MqDeadline::FifoEntry* MqDeadline::oldest(Direction& d)
{
  while (not d.fifo.empty() and not is_queued(d.fifo.front().r, d.fifo.front().id))
    d.fifo.pop_front();
  return d.fifo.empty() ? nullptr : &d.fifo.front();
}

Request* MqDeadline::from_pos(const Direction& d, std::uint64_t pos) const
{
  auto it = std::lower_bound(d.sorted.begin(), d.sorted.end(), pos,
                             [](const Request* r, std::uint64_t p) { return r->offset < p; });
  return it == d.sorted.end() ? nullptr : *it;
}

void MqDeadline::remove(Direction& d, Request* r)
{
  auto it = std::lower_bound(d.sorted.begin(), d.sorted.end(), r, sort_before);
  if (it == d.sorted.end() or *it != r)
    throw std::logic_error("MqDeadline::remove: the request is not queued");
  d.sorted.erase(it);
  in_dd_[static_cast<std::size_t>(r->queue) * nr_requests_ + r->tag] = 0;
}

Request* MqDeadline::dispatch(double now_s)
{
  Request* rq = nullptr;
  int dir     = last_dir_;
  // Still entitled to batch: the next request in sort order of the last direction.
  if (batching_ < t_.fifo_batch)
    rq = from_pos(dir_[last_dir_], dir_[last_dir_].latest_pos);
  if (rq == nullptr) {
    // Not batching: choose the direction, reads first unless writes have starved writes_starved times.
    bool reads = not dir_[0].sorted.empty(), writes = not dir_[1].sorted.empty();
    if (reads and not(writes and starved_++ >= t_.writes_starved)) {
      dir = 0;
    } else if (writes) {
      starved_ = 0;
      dir      = 1;
    } else {
      return nullptr;
    }
    Direction& d         = dir_[dir];
    Request* next        = from_pos(d, d.latest_pos);
    const FifoEntry* old = oldest(d);
    bool expired         = old != nullptr and old->deadline_s <= now_s;
    if (expired or next == nullptr) {
      rq = old->r; // the oldest: a deadline passed, or the sweep reached the end of the disk
      if (expired)
        ++expired_;
    } else {
      rq = next;
    }
    batching_ = 0;
  }
  Direction& d = dir_[dir];
  remove(d, rq);
  d.latest_pos = rq->offset + rq->size_bytes;
  last_dir_    = dir;
  ++batching_;
  return rq;
}

int MqDeadline::search_depth(Op op) const
{
  auto n = dir_[dir_of(op)].sorted.size();
  return n == 0 ? 0 : static_cast<int>(std::ceil(std::log2(static_cast<double>(n) + 1)));
}

} // namespace pvsim
