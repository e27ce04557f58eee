#include "models/qemu/aio_engine.hpp"
#include "sim/named_registry.hpp"

#include <algorithm>
#include <stdexcept>

namespace pvsim {

namespace {

NamedRegistry<AioEngineInfo>& engine_registry()
{
  static NamedRegistry<AioEngineInfo> registry("AIO engine");
  return registry;
}

} // namespace

void register_aio_engine(AioEngineInfo info)
{
  engine_registry().add(std::move(info));
}

std::vector<std::string> aio_engine_names()
{
  return engine_registry().names();
}

std::string aio_engine_summary(const std::string& name)
{
  const AioEngineInfo* info = engine_registry().find(name);
  return info == nullptr ? std::string() : info->summary;
}

std::unique_ptr<AioEngine> make_aio_engine(const std::string& name, const AioEngineParams& p, AioEngine::Context& ctx)
{
  return engine_registry().get(name).make(p, ctx);
}

// --- the part every engine shares: station accounting and the reaping of completions -------------------------------

void AioEngine::submit(Request* r)
{
  double t   = now();
  r->stage_s = t; // the engine is the stage the request is in until it is issued
  arrived_++;
  probe_.emit({StationEvent::What::arrive, t, r, t});
  enqueue(r);
}

void AioEngine::issue(Request* r)
{
  double t = now();
  started_++;
  in_flight_++;
  interval_peak_ = std::max(interval_peak_, in_flight_);
  max_in_flight_.set(static_cast<double>(in_flight_));
  in_flight_avg_.set(t, static_cast<double>(in_flight_));
  probe_.emit({StationEvent::What::start, t, r, r->stage_s});
}

void AioEngine::device_done(Request* r, double submitted_s)
{
  departed_++;
  probe_.emit({StationEvent::What::depart, now(), r, submitted_s});
  device_completed(r);
}

void AioEngine::completion_ready(Request* r)
{
  completions_.push(r);
  if (not reaping_) { // the eventfd (or ring fd, or completion BH) wakes the AioContext
    reaping_ = true;
    ctx_.run(0, this, reap_pass);
  }
}

void AioEngine::on_event(int kind, Request* r)
{
  switch (kind) {
  case reap_pass: { // qemu_laio_process_completions / luring_process_completions / thread_pool_completion_bh
    ++reap_passes_;
    std::size_t n = completions_.size();
    for (std::size_t i = 0; i < n; ++i)
      ctx_.run(p_.completion_cpu_s, this, reaped, completions_.pop());
    ctx_.run(0, this, reap_tail);
    break;
  }
  case reaped: // "Change counters one-by-one": in_flight--, then the request's callback
    in_flight_--;
    max_in_flight_.set(static_cast<double>(in_flight_));
    ++reaped_;
    in_flight_avg_.set(now(), static_cast<double>(in_flight_));
    ctx_.complete(r);
    break;
  case reap_tail:
    if (not completions_.empty()) { // the ring is peeked again until it is empty: same pass, no new wake-up
      on_event(reap_pass, nullptr);
      break;
    }
    reaping_ = false;
    after_reaping();
    break;
  default:
    engine_event(kind - first_engine_kind, r);
    break;
  }
}

Occupancy AioEngine::occupancy() const
{
  return {arrived_, departed_, queued() + (started_ - departed_)};
}

void AioEngine::declare_stats(StatSet& set, const std::string& prefix)
{
  set.info(
      prefix + "name", [this] { return name(); }, "the AIO engine (aio=)");
  set.add(prefix + "mean_in_flight", in_flight_avg_, "requests",
          "time-averaged requests in flight (QEMU's in_flight: submitted, not reaped)");
  set.add(prefix + "max_in_flight", max_in_flight_, "requests", "most requests in flight");
  set.add(prefix + "waited", waited_, "requests", "requests that found the engine's limit reached and waited");
  set.add(prefix + "syscalls", syscalls_, "calls", "submissions: io_submit, io_uring_enter calls, worker hand-offs");
  set.add(prefix + "batches", batches_, "requests", "requests per submission -> submissions");
  set.formula(
      prefix + "mean_batch",
      [this](const StatWindow&) {
        double n = 0, sum = 0;
        for (auto [size, count] : batches_.counts()) {
          n += static_cast<double>(count);
          sum += static_cast<double>(static_cast<std::uint64_t>(size) * count);
        }
        return json(n > 0 ? sum / n : 0.0);
      },
      "requests", "mean requests per submission");
  set.add(prefix + "reap_passes", reap_passes_, "passes", "passes of the AioContext reaping completions");
  set.add(prefix + "completions_reaped", reaped_, "requests", "completions reaped");
  declare_engine_stats(set, prefix);
}

} // namespace pvsim
