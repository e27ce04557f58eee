/* pvsim: the time average of a piecewise-constant quantity (queue length, busy servers, ring occupancy). */
#pragma once

namespace pvsim {

class TimeAverage {
public:
  /** The quantity takes `value` from time `now` on. */
  void set(double now, double value)
  {
    integral_ += value_ * (now - last_);
    last_  = now;
    value_ = value;
  }
  void add(double now, double delta) { set(now, value_ + delta); }
  double value() const { return value_; }
  /** Restarts the average at `now`, keeping the current value (end of warm-up). */
  void restart(double now)
  {
    integral_ = 0;
    start_    = now;
    last_     = now;
  }
  /** Time average over [start, now]. */
  double mean(double now) const
  {
    double span = now - start_;
    if (span <= 0)
      return value_;
    return (integral_ + value_ * (now - last_)) / span;
  }

private:
  double value_    = 0;
  double integral_ = 0;
  double last_     = 0;
  double start_    = 0;
};

} // namespace pvsim
