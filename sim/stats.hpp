/* pvsim: statistics owned by the engine (gem5's Stats, SST's statistics API).
 *
 * A model declares each of its statistics once, as a member of one of the kinds below, and registers it with its
 * component's StatSet under a JSON pointer with a unit and a line of documentation:
 *
 *   Counter notified_;                                        // in the model (or in a ring, a port, a thread...)
 *   stats().add("/rings/0/requests_notified", notified_, "requests", "requests whose push notified the backend");
 *
 * The engine then does the rest for every component alike: at the end of the warm-up it restarts every
 * statistic (Info excepted: it describes the configuration, not the run), and at the end of the run it writes every
 * one into results.json under /components/<name>, at its pointer. No model has its own reset or report code, so
 * no model can forget to exclude the warm-up.
 *
 * Kinds:
 *   Counter    events counted (uint64)                        restart: 0
 *   Sum        an accumulated quantity (double: CPU seconds)  restart: 0
 *   Maximum    the largest value seen                         restart: 0
 *   Peak       the highest a level reached (in flight, busy)  restart: the level then (it holds at the window's start)
 *   Level      a piecewise-constant quantity (occupancy): its time average over the window; the level is kept
 *   Tally      counts by integer value (batch sizes)          restart: empty; written as {"value": count}
 *   Formula    derived at report time from other statistics and the window (utilisation = busy / window)
 *   Info       configuration, written as it is, never restarted
 * Every mutator is inline and allocation-free except Tally's first sight of a value. No kind has a virtual function:
 * the engine restarts and writes them through StatRef.
 *
 * A StatSet keeps pointers: register a statistic once the object holding it has its final address (in the model's
 * constructor for members, after a vector of rings or queues is filled, never before it may reallocate). */
#pragma once

#include "sim/time_average.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <concepts>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace pvsim {

/** The measuring window a statistic is reported over. */
struct StatWindow {
  double start_s; // end of the warm-up (0 without one)
  double now_s;   // end of the run
  double span_s() const { return now_s - start_s; }
  /** x per second of the window (0 for an empty window). */
  double per_second(double x) const { return span_s() > 0 ? x / span_s() : 0.0; }
};

/** The base of every statistic kind: no virtual functions and no data, so that a Counter is its 8-byte count. A
 * model holds thousands of them in the objects a request touches (rings, threads, tags), and a vtable pointer each
 * was half of every counter's bytes. The engine reaches a statistic through a StatRef, which knows its kind. */
class Stat {
public:
  enum class Kind { counter, sum, maximum, peak, level, tally, formula, info };
  /** The kind's name, as `pvsim stats` prints it ("counter", "level"...). */
  static const char* kind_name(Kind k)
  {
    static const char* const names[] = {"counter", "sum", "maximum", "peak", "level", "tally", "formula", "info"};
    return names[static_cast<int>(k)];
  }
};

class Counter final : public Stat {
public:
  static constexpr Kind kind = Kind::counter;
  Counter& operator++()
  {
    ++v_;
    return *this;
  }
  Counter& operator+=(std::uint64_t n)
  {
    v_ += n;
    return *this;
  }
  std::uint64_t get() const { return v_; }
  void restart(double) { v_ = 0; }
  nlohmann::json value(const StatWindow&) const { return v_; }

private:
  std::uint64_t v_ = 0;
};

class Sum final : public Stat {
public:
  static constexpr Kind kind = Kind::sum;
  Sum& operator+=(double x)
  {
    v_ += x;
    return *this;
  }
  double get() const { return v_; }
  void restart(double) { v_ = 0; }
  nlohmann::json value(const StatWindow&) const { return v_; }

private:
  double v_ = 0;
};

class Maximum final : public Stat {
public:
  static constexpr Kind kind = Kind::maximum;
  /** `integer`: a count (written as an integer), not a measure. */
  explicit Maximum(bool integer = false) : integer_(integer) {}
  void sample(double x) { v_ = std::max(v_, x); }
  double get() const { return v_; }
  void restart(double) { v_ = 0; }
  nlohmann::json value(const StatWindow&) const
  {
    return integer_ ? nlohmann::json(static_cast<std::uint64_t>(v_)) : nlohmann::json(v_);
  }

private:
  double v_ = 0;
  bool integer_;
};

/** The highest a level (requests in flight, busy workers) reached in the window: set() it on every change; a level
 * that does not move during the window peaks at its value at the window's start. */
class Peak final : public Stat {
public:
  static constexpr Kind kind = Kind::peak;
  void set(double level)
  {
    level_ = level;
    max_   = std::max(max_, level);
  }
  double get() const { return max_; }
  void restart(double) { max_ = level_; }
  nlohmann::json value(const StatWindow&) const { return static_cast<std::uint64_t>(max_); }

private:
  double level_ = 0;
  double max_   = 0;
};

class Level final : public Stat {
public:
  static constexpr Kind kind = Kind::level;
  void set(double now, double v) { avg_.set(now, v); }
  void add(double now, double delta) { avg_.add(now, delta); }
  double current() const { return avg_.value(); }
  double mean(double now) const { return avg_.mean(now); }
  void restart(double now) { avg_.restart(now); }
  nlohmann::json value(const StatWindow& w) const { return avg_.mean(w.now_s); }

private:
  TimeAverage avg_;
};

class Tally final : public Stat {
public:
  static constexpr Kind kind = Kind::tally;
  /** Small values (batch sizes) are counted in an array, the rest in a map: a sample is then an increment, not a
   * tree walk over nodes spread on the heap. */
  void sample(long long x, std::uint64_t n = 1)
  {
    if (x >= 0 and x < dense_size)
      dense_[static_cast<std::size_t>(x)] += n;
    else
      sparse_[x] += n;
  }
  /** Every value seen and its count, in increasing order of value. */
  std::map<long long, std::uint64_t> counts() const
  {
    std::map<long long, std::uint64_t> all = sparse_;
    for (long long x = 0; x < dense_size; ++x)
      if (dense_[static_cast<std::size_t>(x)] > 0)
        all[x] = dense_[static_cast<std::size_t>(x)];
    return all;
  }
  void restart(double)
  {
    dense_.fill(0);
    sparse_.clear();
  }
  nlohmann::json value(const StatWindow&) const
  {
    nlohmann::json out = nlohmann::json::object();
    for (auto [x, n] : counts())
      out[std::to_string(x)] = n;
    return out;
  }

private:
  static constexpr long long dense_size = 64;
  std::array<std::uint64_t, dense_size> dense_{};
  std::map<long long, std::uint64_t> sparse_;
};

class Formula final : public Stat {
public:
  static constexpr Kind kind = Kind::formula;
  using Fn                   = std::function<nlohmann::json(const StatWindow&)>;
  explicit Formula(Fn fn) : fn_(std::move(fn)) {}
  void restart(double) {}
  nlohmann::json value(const StatWindow& w) const { return fn_(w); }

private:
  Fn fn_;
};

class Info final : public Stat {
public:
  static constexpr Kind kind = Kind::info;
  using Fn                   = std::function<nlohmann::json()>;
  explicit Info(Fn fn) : fn_(std::move(fn)) {}
  void restart(double) {}
  nlohmann::json value(const StatWindow&) const { return fn_(); }

private:
  Fn fn_;
};

/** A statistic of any kind, as the engine sees it: its kind and where it lives. Restarting and writing dispatch on
 * the kind (a switch in sim/stats.cpp), at the warm-up's end and in the report, never per request. */
class StatRef {
public:
  template <std::derived_from<Stat> S>
  StatRef(S& s) : kind_(S::kind), stat_(&s) // NOLINT(google-explicit-constructor): any statistic is one
  {
  }
  Stat::Kind kind() const { return kind_; }
  const Stat* address() const { return stat_; }
  void restart(double now) const;
  nlohmann::json value(const StatWindow& w) const;

private:
  Stat::Kind kind_;
  Stat* stat_;
};

/** The statistics of one component: what the engine restarts and writes. */
class StatSet {
public:
  struct Entry {
    std::string pointer; // JSON pointer under the component's results, "/rings/0/requests_notified"
    StatRef stat;
    std::string_view unit; // interned (intern()): a ring's statistics say the same as every other ring's
    std::string_view doc;
  };

  /** Registers a statistic the model owns (it must outlive the run). */
  void add(std::string pointer, StatRef s, std::string_view unit, std::string_view doc)
  {
    entries_.push_back({std::move(pointer), s, intern(unit), intern(doc)});
    mutable_.push_back(s);
  }
  /** Statistics restarted with the others but not written (they feed a Formula: a thread's CPU seconds behind its
   * utilisation). */
  template <class... S>
  void track(S&... s)
  {
    (mutable_.push_back(StatRef(s)), ...);
  }
  /** Registers a statistic computed from others at report time; the set keeps it. */
  void formula(std::string pointer, Formula::Fn fn, std::string_view unit, std::string_view doc)
  {
    formulas_.push_back(std::make_unique<Formula>(std::move(fn)));
    add(std::move(pointer), *formulas_.back(), unit, doc);
  }
  /** Registers configuration written as it is (negotiated queues, ring slots, the vCPU a channel is bound to). */
  void info(std::string pointer, Info::Fn fn, std::string_view doc)
  {
    infos_.push_back(std::make_unique<Info>(std::move(fn)));
    add(std::move(pointer), *infos_.back(), "", doc);
  }

  /** End of the warm-up: every windowed statistic starts again at `now`. */
  void restart(double now)
  {
    for (const StatRef& s : mutable_)
      s.restart(now);
  }
  /** Writes every statistic into `out` at its pointer (creating the objects and arrays on the way). */
  void write(nlohmann::json& out, const StatWindow& w) const
  {
    for (const auto& e : entries_)
      out[nlohmann::json::json_pointer(e.pointer)] = e.stat.value(w);
  }
  const std::vector<Entry>& entries() const { return entries_; }

private:
  /** One copy per distinct text for the whole process (a 1024-ring host declares each ring's statistics with the same
   * words: a copy each was megabytes). The set's nodes never move, so the views stay valid. */
  static std::string_view intern(std::string_view text)
  {
    struct Hash {
      using is_transparent = void;
      std::size_t operator()(std::string_view v) const { return std::hash<std::string_view>{}(v); }
    };
    static std::unordered_set<std::string, Hash, std::equal_to<>> texts;
    if (auto it = texts.find(text); it != texts.end())
      return *it;
    return *texts.emplace(text).first;
  }
  std::vector<Entry> entries_;
  std::vector<StatRef> mutable_;
  std::vector<std::unique_ptr<Formula>> formulas_;
  std::vector<std::unique_ptr<Info>> infos_;
};

} // namespace pvsim
