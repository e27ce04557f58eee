/* pvsim: the XenStore handshake of a Xen split driver, the part every device kind (vbd, vif) shares.
 *
 * Models: the startup protocol of xen/include/public/io/blkif.h and netif.h as the Linux drivers and libxl run it.
 * The toolstack creates both device directories (libxl__device_generic_add(): the "backend" and "frontend" links,
 * then each end's entries) with both ends Initialising; the backend's probe publishes its features and goes to
 * InitWait; the hotplug script reports hotplug-status "connected"; the frontend publishes its queues, one at the top
 * of its directory or multi-queue-num-queues and queue-N/ for several (the multi-queue layout of blkif.h and
 * netif.h); the backend reads them back (blkback connect_ring(), netback connect()) and refuses what it cannot use
 * with xenbus_dev_fatal() (Closing), or publishes its facts and goes to Connected. A handshake is a list of steps in
 * protocol order, each performed at a time the caller gives; a refusal ends it.
 * Leaves out: each device kind's keys, values and checks (blkif_negotiation.cpp, netif_negotiation.cpp), watches,
 * transactions and their retries, timing (each step takes the caller's time stamp). */
#pragma once

#include "models/xen/xenbus.hpp"
#include "models/xen/xenstore.hpp"
#include "sim/input_error.hpp"

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pvsim::xen {

/** One node of a device directory and its value, as libxl's flexarrays of entries hold them. */
struct XenStoreEntry {
  std::string key;
  std::string value;
};
using XenStoreEntries = std::vector<XenStoreEntry>;

class XenbusHandshake {
public:
  XenbusHandshake(const XenbusHandshake&)            = delete; // the steps act on this object
  XenbusHandshake& operator=(const XenbusHandshake&) = delete;

  const XenbusStateMachine& frontend() const { return frontend_state_; }
  const XenbusStateMachine& backend() const { return backend_state_; }
  /** Errors met (refusals), in words. */
  const std::vector<std::string>& errors() const { return errors_; }
  /** All remaining steps, at start_time, start_time + step, ... */
  void run(double start_time = 0.0, double step = 0.0);
  /** Both ends' xenbus state transitions in time order: (time, "frontend <nodename>: Initialising -> Connected"). */
  std::vector<std::pair<double, std::string>> timeline() const;

protected:
  /** `steps`, in protocol order, act on the device whose directories are `frontend_path` and `backend_path`. Both
   * ends start Unknown: the toolstack's first step creates their "state" nodes. */
  XenbusHandshake(XenStore& store, std::string frontend_path, std::string backend_path,
                  std::vector<std::function<void(double)>> steps);
  ~XenbusHandshake() = default;

  /** Index of the next step; the number of steps when none is left. */
  std::size_t next_step_index() const { return next_; }
  /** Performs the next step at `time` and moves on, unless the step ended the handshake. Returns the index of the
   * step performed, or the number of steps (performing nothing) when none was left. */
  std::size_t perform_next_step(double time);

  const std::string& frontend_path() const { return frontend_state_.nodename(); }
  const std::string& backend_path() const { return backend_state_.nodename(); }
  /** Writes `entries` below `dir`, in order. */
  void write_entries(const std::string& dir, const XenStoreEntries& entries);

  /** libxl__device_generic_add(): the frontend's "backend" link then `frontend_entries`, the backend's "frontend"
   * link then `backend_entries` (both lists hold the "state" node, Initialising); both ends are Initialising. */
  void toolstack_add(const XenStoreEntries& frontend_entries, const XenStoreEntries& backend_entries, double time);
  /** The end of a backend's probe: its `features`, then InitWait. */
  void backend_probed(const XenStoreEntries& features, double time);
  /** The hotplug script's `entries`, then hotplug-status "connected". */
  void hotplug_script_done(const XenStoreEntries& entries);
  /** The frontend's queues: multi-queue-num-queues first when `write_num_queues`, then each queue's keys through
   * `write_queue(dir, queue)`, in the frontend directory itself for one queue, in its queue-0, queue-1, ... for
   * several (blkfront write_per_ring_nodes(), netfront write_queue_xenstore_keys()). */
  template <typename Queue, typename WriteQueue>
  void publish_queues(const std::vector<Queue>& queues, bool write_num_queues, WriteQueue&& write_queue);
  /** The backend reading the frontend's keys back: `check()` throws pvsim::InputError for what `backend_driver`
   * ("blkback", "netback") refuses, which ends the handshake with the backend Closing. False after a refusal. */
  template <typename Check>
  bool backend_accepts_frontend(std::string_view backend_driver, Check&& check, double time);
  /** The end of a backend's connect(): its `entries`, then Connected. */
  void backend_connected(const XenStoreEntries& entries, double time);
  /** xenbus_dev_fatal(): records `error`, moves `end` to Closing and ends the handshake. */
  void fatal(XenbusStateMachine& end, std::string error, double time);
  /** Records `error` and ends the handshake, leaving both states as they are (a driver that gives up silently). */
  void abandon(std::string error);

  XenStore& store_;
  XenbusStateMachine frontend_state_;
  XenbusStateMachine backend_state_;

private:
  std::vector<std::function<void(double)>> steps_;
  std::size_t next_ = 0;
  std::vector<std::string> errors_;
};

template <typename Queue, typename WriteQueue>
void XenbusHandshake::publish_queues(const std::vector<Queue>& queues, bool write_num_queues, WriteQueue&& write_queue)
{
  const std::string& fe = frontend_path();
  if (write_num_queues)
    store_.write(fe + "/multi-queue-num-queues", std::to_string(queues.size()));
  if (queues.size() == 1) {
    write_queue(fe, queues[0]);
    return;
  }
  for (std::size_t q = 0; q < queues.size(); ++q)
    write_queue(fe + "/queue-" + std::to_string(q), queues[q]);
}

template <typename Check>
bool XenbusHandshake::backend_accepts_frontend(std::string_view backend_driver, Check&& check, double time)
{
  try {
    check();
  } catch (const InputError& e) {
    fatal(backend_state_, std::string(backend_driver) + " refused the frontend: " + e.what(), time);
    return false;
  }
  return true;
}

} // namespace pvsim::xen
