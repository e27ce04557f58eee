/* pvsim: what a scenario will ask of the machine, estimated before it runs (issue 16): peak memory, item by item
 * (requests in flight, actor stacks, the engine's own), and a ceiling on the requests simulated per second.
 *
 * Each component adds what it will hold (Component::estimate_resources(), called once the wiring is validated); the
 * engine adds the process's own base and its per-run buffers. The figures are upper bounds from the parameters, not
 * measurements: a closed-loop job counts every request its iodepth allows as in flight at once, an actor its whole
 * stack (address space, which is what `ulimit -v` limits; the pages touched are fewer). An open-loop source is
 * bounded by its arrivals over the whole run (everything it sends could still be queued at the end). */
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace pvsim {

struct ResourceItem {
  std::string component; // the component's name ("" for the engine)
  std::string what;      // what the memory holds, in a few words
  double bytes;          // memory it will occupy (resident)
  double address_bytes;  // address space it reserves (>= bytes: a stack is reserved whole, touched in part)
  std::string advice;    // what to change to lower it ("" when nothing can)
};

class ResourceEstimate {
public:
  /** Memory a request in flight holds: the Request (its end_io frames) and about two event-queue and FIFO entries. */
  static double bytes_per_request();

  /** Resident bytes and, when larger, the address space reserved (ulimit -v counts it). */
  void add(std::string component, std::string what, double bytes, double address_bytes, std::string advice = "");
  /** `count` requests that may be in flight at once. */
  void add_requests(const std::string& component, double count, const std::string& advice);
  /** `count` actors (CPU threads), each reserving a stack of `stack_bytes` and touching a few pages of it. */
  void add_actors(const std::string& component, double count, double stack_bytes, const std::string& what);
  /** Resident bytes an actor's stack uses: the work loop's frames and SimGrid's context switch touch a few pages. */
  static double touched_stack_bytes() { return 16.0 * 1024; }
  /** A ceiling on the requests `component` issues per simulated second (none: no ceiling known). */
  void add_request_rate(const std::string& component, std::optional<double> per_s);

  double memory_bytes() const;
  double address_bytes() const;
  /** The items, largest first. */
  std::vector<ResourceItem> largest(std::size_t n) const;
  /** Requests per simulated second, at most; nullopt when a source has no known ceiling. */
  std::optional<double> request_rate_per_s() const;

  nlohmann::json to_json(double duration_s) const;
  /** Two or three lines for a terminal: the total, the items that dominate it, the request rate. */
  std::string to_text(double duration_s) const;

private:
  std::vector<ResourceItem> items_;
  double rate_per_s_   = 0;
  bool rate_unbounded_ = false;
};

/** Memory this process may occupy: the smaller of MemAvailable (/proc/meminfo) and `max_bytes` when given; nullopt
 * when neither is known. `source` says which one it was. */
std::optional<double> memory_limit_bytes(std::optional<double> max_bytes, std::string* source);
/** The address-space limit (ulimit -v), if any. */
std::optional<double> address_space_limit_bytes();

/** "1.5 GiB", "300 MiB", "12 KiB". */
std::string format_bytes(double bytes);

} // namespace pvsim
