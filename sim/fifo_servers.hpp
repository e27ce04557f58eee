/* pvsim: a first-come first-served queue in front of c identical servers, the building block of stations and
 * devices. The owner says how long a request is served and what happens when it is done. Requests wait in an
 * intrusive FIFO; service completions are events; nothing is allocated per request. */
#pragma once

#include "sim/component.hpp"
#include "sim/event_queue.hpp"
#include "sim/probe.hpp"
#include "sim/request.hpp"
#include "sim/statistics.hpp"

namespace pvsim {

class FifoServers : public EventTarget, public Station {
public:
  class Owner {
  public:
    virtual ~Owner()                              = default;
    virtual double service_time(const Request* r) = 0;
    /** Service is over; the request has left the servers (already counted as departed). */
    virtual void served(Request* r) = 0;
  };

  FifoServers(Owner& owner, int servers) : owner_(owner), servers_(servers) {}
  void attach(EventQueue& events) { events_ = &events; }

  void arrive(Request* r);
  void on_event(int kind, Request* r) override;

  int servers() const override { return servers_; }
  int busy() const { return busy_; }
  std::size_t waiting() const { return queue_.size(); }
  Occupancy occupancy() const override;
  const Probe<StationEvent>& probe() const override { return probe_; }

private:
  void begin(Request* r);
  Owner& owner_;
  int servers_;
  int busy_                = 0;
  std::uint64_t issued_    = 0;
  std::uint64_t completed_ = 0;
  RequestFifo queue_;
  EventQueue* events_ = nullptr;
  Probe<StationEvent> probe_;
};

} // namespace pvsim
