/* pvsim: a Chrome/Perfetto trace of a run (`pvsim run --trace FILE`), to watch requests travel through the stack in
 * ui.perfetto.dev or chrome://tracing (the JSON "Trace Event Format": traceEvents with ph X, C, M, s/t/f; times in
 * microseconds).
 *
 * What it shows, from the typed events the models already emit (a collector: no model changes):
 * - a process per guest (the components whose `vm` names it) and one for the host (the rest: VMM and backend
 *   threads, AIO engines, devices), named with metadata events;
 * - for every queueing place a model exposes (blk-mq hardware queues and tags, rings and their slots, virtqueues,
 *   event channels, backend queues, AIO engines, devices: Component::queues()), a slice per request while it waits
 *   (named "<place> (waiting)") and while it is served (named "<place>"), on lanes of that place's tracks (one lane
 *   per request held at once, so slices on a track never overlap);
 * - a slice per request on its job's track, from submission to completion;
 * - flow arrows joining one request's slices in time order, from its job's slice to its last stage (each flow event
 *   starts with the slice it binds to, on the same track; slices and flow events share the category "request", since
 *   Chromium's trace engine binds a flow event only to a slice of its own category, time, process and thread);
 * - a counter per place: the requests it holds (ring occupancy, tags in use, the AIO engine's queue), every request
 *   counted, sampled or not;
 * - a process per cpu.host ("CPU work on ...") with a track per thread placed on it (vCPUs, backend kthreads,
 *   IOThreads, pool workers): a "run" slice per batch of work the thread ran (CpuThread's batch probe: its items and
 *   CPU time in the args), so one sees which vCPU or backend thread is busy when requests queue.
 * - for every shared ring whose model publishes its requests' steps (sim/path_event.hpp: Xen blk and net rings,
 *   virtqueues), a "steps" track with an instant per step of a traced request (slot, notified or suppressed, the
 *   thread, the pass it was taken in, grants found or mapped, all the ring's indices in the args); a track per event
 *   channel (or interrupt vector) with an instant per notification sent over it; counters of the ring's indices
 *   (req_prod, req_event, rsp_prod, rsp_event, req_cons, rsp_cons; avail.idx, used.idx, ... for a virtqueue) and of
 *   the backend's pass ("taken in this pass": it climbs to the pass's size, then starts again at 1).
 * Limits, so a trace stays openable: a time window (requests submitted in it, followed until they complete, and the
 * counters within it) and a sample rate (every Nth request); counters count every request, sampled or not. */
#pragma once

#include "sim/json_node.hpp"
#include "sim/path_event.hpp"
#include "sim/statistics.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace pvsim {

class Component;
class CpuThread;
class Simulation;

struct TraceOptions {
  double from_s              = 0;
  double to_s                = 0;
  std::uint64_t sample_every = 1; // requests whose id is a multiple of this are traced
};

class TraceWriter {
public:
  TraceWriter(const Simulation& sim, TraceOptions options);
  ~TraceWriter();
  TraceWriter(const TraceWriter&)            = delete;
  TraceWriter& operator=(const TraceWriter&) = delete;

  /** Connects to every place's and job's probe (once the models have started). */
  void connect();
  /** The trace document: requests not completed yet are closed at `now`. */
  json finish(double now);

private:
  struct Slice {
    int pid, tid;
    double ts_s, end_s;
    std::string name, cat;
  };
  /** A set of tracks where slices emitted in order of their end never overlap (first lane free at the start). */
  struct Lanes {
    int pid   = 0;
    int order = 0; // tracks sort by place, then lane
    std::string label;
    std::vector<std::pair<int, double>> lanes; // tid, end of its last slice
  };
  struct Place;
  struct RingTrack;
  int lane(Lanes& l, double start_s, double end_s);
  int pid_of(const std::string& component);
  void connect_cpus(const Component& host, const std::vector<const CpuThread*>& threads);
  bool traced(const Request* r) const;
  void slice(std::uint64_t id, Lanes& l, double start_s, double end_s, const std::string& name, const std::string& cat);
  void counter(Place& p, double t);
  void close(std::uint64_t id, double now);
  /** A request's step inside a model (sim/path_event.hpp): an instant on its ring's track (and, for a notification,
   * on its event channel's track), the ring's indices and the backend's pass as counters. */
  void path_step(const Component& c, const PathEvent& ev);
  RingTrack& ring_track(const Component& c, const std::string& ring);
  int named_track(int pid, const std::string& name, int sort_index);
  /** A counter event, merged with the previous one of the same name at the same instant. */
  void counter_event(int pid, const std::string& name, double t, const json& args, std::size_t& last, double& last_t);

  const Simulation& sim_;
  TraceOptions o_;
  json events_ = json::array();
  std::map<std::string, int> pids_;
  int next_tid_   = 1;
  int next_order_ = 1;
  std::vector<std::unique_ptr<Place>> places_;
  std::map<std::string, std::unique_ptr<RingTrack>> rings_;
  std::map<std::string, int> channel_tracks_; // "pid/channel id/ring" -> tid
  std::vector<std::unique_ptr<Lanes>> jobs_;
  std::map<std::uint64_t, std::vector<Slice>> open_; // traced requests not completed: their slices so far
};

} // namespace pvsim
