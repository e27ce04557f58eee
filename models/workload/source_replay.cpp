#include "models/workload/source_replay.hpp"
#include "sim/resource_estimate.hpp"

#include "models/linux/cpu_list.hpp"
#include "sim/registry.hpp"
#include "sim/simulation.hpp"

#include <algorithm>
#include <cmath>

namespace pvsim {

const ParamTable<ReplaySourceParams>& ReplaySource::param_table()
{
  static const ParamTable<Params> t = [] {
    ParamTable<Params> tb(type_name);
    tb.resource("vm", &Params::vm, true, "The guest.vm whose vCPUs submit the I/Os.")
        .ref("target", &Params::target, true, "Where requests go: a queue, a driver or a device.")
        .text("trace", &Params::trace, "",
              "The trace file (relative to the scenario file): blkparse's default text output or the per-request CSV "
              "of block tracepoint times (q_s, i_s, d_s, c_s, sector, nr_sector, rwbs, comm, q_cpu, d_cpu, c_cpu), "
              "possibly gzip-compressed, or blktrace's binary files. Read by the pvsim command before the run (README "
              "'Replaying a blktrace').")
        .choice("format", &Params::format, {"auto", "blkparse", "csv", "blktrace"}, std::string("auto"),
                "Format of the trace file; blktrace: the binary files of blktrace -o NAME (name one, NAME.blktrace.0: "
                "all NAME.blktrace.* are read); auto: blktrace when the file starts with its magic, csv when its name "
                "ends in .csv or .csv.gz, else blkparse.")
        .choice("submit_on", &Params::submit_on, {"Q", "D"}, std::string("Q"),
                "Which recorded event is the submission: Q, the bio entering the block layer (what the application "
                "asked, before merges and the scheduler), or D, the request issued to the driver (what the traced "
                "device saw: merged, reordered; for a trace taken below a stack being replaced).",
                "Q: the application's I/O")
        .choice("timing", &Params::timing, {"as-recorded", "as-fast-as-possible", "scaled"}, std::string("as-recorded"),
                "as-recorded: each I/O at its recorded offset from the first (open loop); scaled: the same with gaps "
                "multiplied by time_scale; as-fast-as-possible: `depth` in flight, the next when one completes.")
        .integer("depth", &Params::depth, 16, 1, 1 << 20,
                 "Most I/Os in flight with timing as-fast-as-possible (ignored by the other modes).",
                 "pvsim default (fio's iodepth of a typical replay, unverified)")
        .number("time_scale", &Params::time_scale, 1.0, 1e-9, 1e9,
                "With timing scaled: factor applied to every recorded gap (0.5 replays twice as fast).")
        .text("cpu_map", &Params::cpu_map, "same",
              "Recorded CPU -> vCPU: \"same\" (CPU n on vCPU n modulo the guest's vCPUs, with a warning in the "
              "results when the trace has more CPUs) or a comma-separated list of vCPUs, the n-th for CPU n "
              "(\"2,3\": CPU 0 on vCPU 2, CPU 1 on vCPU 3; a CPU past the list wraps around it).")
        .flag("loop", &Params::loop, false,
              "Replay the trace again when it ends (the next pass starts one mean gap after the last I/O); "
              "otherwise stop submitting.")
        .quantity("startdelay", Dimension::duration, &Params::startdelay_s, 0.0, 0, 1e6,
                  "Time from the start of the run to the first I/O.", "fio startdelay=0")
        .quantity("submit_cpu", Dimension::duration, &Params::submit_cpu_s, 1e-6, 0, 1,
                  "vCPU time per I/O from the bio to the driver (blk-mq's bio to request, plug, dispatch); the "
                  "driver's own queue_rq cost is the driver model's.",
                  "pvsim estimate: about 1 us on a 2-3 GHz core (unverified)");
    return tb;
  }();
  return t;
}

ReplaySource::ReplaySource(std::string name, const Params& p) : Component(std::move(name), type_name), p_(p) {}

void ReplaySource::connect()
{
  vm_     = &GuestVm::from_port(*this, "vm");
  target_ = port("target");
}

void ReplaySource::validate()
{
  if (p_.trace.empty())
    fail("expected the trace file to replay", "trace");
  trace_ = ReplayTraces::find(name());
  if (trace_ == nullptr)
    fail("trace '" + p_.trace + "' was not read: the pvsim command reads it before the run", "trace");
  if (p_.cpu_map != "same") {
    auto cpus = parse_cpu_list(p_.cpu_map);
    if (not cpus or cpus->empty())
      fail("expected \"same\" or a list of vCPUs such as \"2,3,0,1\", got \"" + p_.cpu_map + "\"", "cpu_map");
    // parse_cpu_list sorts a set; a map keeps the order written.
    cpu_map_.clear();
    std::string item;
    for (std::size_t i = 0; i <= p_.cpu_map.size(); ++i) {
      if (i == p_.cpu_map.size() or p_.cpu_map[i] == ',') {
        auto one = parse_cpu_list(item);
        if (not one or one->size() != 1)
          fail("expected one vCPU per recorded CPU, comma-separated (\"2,3,0,1\"), got \"" + p_.cpu_map + "\"",
               "cpu_map");
        cpu_map_.push_back(one->front());
        item.clear();
      } else {
        item += p_.cpu_map[i];
      }
    }
    for (int c : cpu_map_)
      if (c >= vm_->vcpus())
        fail("vCPU " + std::to_string(c) + " does not exist: '" + vm_->name() + "' has " +
                 std::to_string(vm_->vcpus()) + " vCPUs",
             "cpu_map");
  } else if (trace_->cpus > vm_->vcpus()) {
    warnings_.push_back("the trace has " + std::to_string(trace_->cpus) + " CPUs and '" + vm_->name() + "' " +
                        std::to_string(vm_->vcpus()) + " vCPUs: CPU n is submitted from vCPU n modulo " +
                        std::to_string(vm_->vcpus()));
  }
}

int ReplaySource::vcpu_of(int cpu) const
{
  cpu = std::max(cpu, 0);
  if (not cpu_map_.empty())
    return cpu_map_[static_cast<std::size_t>(cpu) % cpu_map_.size()];
  return cpu % vm_->vcpus();
}

void ReplaySource::estimate_resources(ResourceEstimate& e) const
{
  if (p_.timing == "as-fast-as-possible") {
    e.add_requests(name(), static_cast<double>(p_.depth), "depth of '" + name() + "'");
    e.add_request_rate(name(), p_.submit_cpu_s > 0 ? 1.0 / p_.submit_cpu_s : std::optional<double>());
    return;
  }
  double rate = 0;
  if (trace_ != nullptr and trace_->ios.size() > 1 and trace_->ios.back().t_ns > 0)
    rate = static_cast<double>(trace_->ios.size()) / (static_cast<double>(trace_->ios.back().t_ns) * 1e-9);
  if (p_.timing == "scaled")
    rate /= p_.time_scale;
  e.add_request_rate(name(), rate > 0 ? std::optional<double>(rate) : std::nullopt);
}

void ReplaySource::start(Simulation& sim)
{
  sim_    = &sim;
  job_id_ = sim.register_job();
  by_vcpu_.assign(static_cast<std::size_t>(vm_->vcpus()), 0);
  const auto& ios = trace_->ios;
  if (not ios.empty()) {
    double span = static_cast<double>(ios.back().t_ns);
    double gap  = ios.size() > 1 ? span / static_cast<double>(ios.size() - 1) : 0.0;
    pass_ns_    = span + std::max(gap, 1.0);
  }
  declare_stats();
  if (not ios.empty())
    sim.events().schedule_in(p_.timing == "as-fast-as-possible" ? p_.startdelay_s : due_s(), this, next_due);
}

void ReplaySource::declare_stats()
{
  StatSet& st = stats();
  st.add("/submitted", window_submitted_, "requests", "I/Os the replay submitted");
  st.add("/completed", window_completed_, "requests", "I/Os of the replay that completed");
  st.info(
      "/replay",
      [this] {
        json j;
        j["trace"]         = trace_->file;
        j["format"]        = trace_->format;
        j["timing"]        = p_.timing;
        j["trace_ios"]     = trace_->ios.size();
        j["replayed"]      = submitted_;
        j["completed"]     = completed_;
        j["in_flight"]     = outstanding_;
        j["passes"]        = trace_->ios.empty() ? 0 : pass_ + (next_ > 0 ? 1 : 0);
        j["bytes"]         = bytes_submitted_;
        j["max_in_flight"] = max_outstanding_;
        j["skipped"]       = trace_->skipped;
        j["replayed_with"] = trace_->notes;
        j["recorded_cpus"] = trace_->cpus;
        json per           = json::object();
        for (std::size_t c = 0; c < by_vcpu_.size(); ++c)
          if (by_vcpu_[c] > 0)
            per[std::to_string(c)] = by_vcpu_[c];
        j["by_vcpu"]          = per;
        j["recorded_span_s"]  = trace_->ios.empty() ? 0.0 : static_cast<double>(trace_->ios.back().t_ns) * 1e-9;
        j["simulated_span_s"] = first_submit_s_ < 0 or last_complete_s_ < 0 ? 0.0 : last_complete_s_ - first_submit_s_;
        const RecordedLatency& rec = trace_->recorded_q_to_c;
        j["recorded_q_to_c_us"]    = {
               {"count", rec.count}, {"mean", rec.mean_us}, {"p50", rec.p50_us}, {"p99", rec.p99_us}};
        j["simulated_q_to_c_us"] = {{"count", q_to_c_.count()},
                                    {"mean", q_to_c_.mean_s() * 1e6},
                                    {"p50", q_to_c_.quantile_s(0.5) * 1e6},
                                    {"p99", q_to_c_.quantile_s(0.99) * 1e6}};
        j["warnings"]            = warnings_;
        return j;
      },
      "what was replayed over the whole run (not only the window): I/Os, bytes, per vCPU, skipped by reason, "
      "recorded and simulated span and Q->C latency");
}

double ReplaySource::due_s() const
{
  double scale = p_.timing == "scaled" ? p_.time_scale : 1.0;
  double ns    = static_cast<double>(pass_) * pass_ns_ + static_cast<double>(trace_->ios[next_].t_ns);
  return p_.startdelay_s + ns * 1e-9 * scale;
}

bool ReplaySource::issue()
{
  const auto& ios = trace_->ios;
  if (next_ >= ios.size()) {
    if (not p_.loop or ios.empty())
      return false;
    next_ = 0;
    pass_++;
  }
  double now = sim_->events().now();
  if (now >= sim_->duration_s())
    return false;
  const ReplayIo& io = ios[next_++];
  Request* r         = sim_->pool().get();
  r->job             = job_id_;
  r->cpu             = vcpu_of(io.cpu);
  r->op              = io.write ? Op::write : Op::read;
  r->offset          = io.sector * 512;
  r->size_bytes      = io.bytes;
  r->submit_s        = now;
  r->push_end_io(this, now);
  if (first_submit_s_ < 0)
    first_submit_s_ = now;
  submitted_++;
  ++window_submitted_;
  outstanding_++;
  max_outstanding_ = std::max(max_outstanding_, outstanding_);
  bytes_submitted_ += io.bytes;
  by_vcpu_[static_cast<std::size_t>(r->cpu)]++;
  vm_->vcpu(r->cpu).post(p_.submit_cpu_s, this, submitted, r);
  return true;
}

void ReplaySource::on_event(int kind, Request* r)
{
  if (kind == submitted) {
    target_->submit(r);
    return;
  }
  double now = sim_->events().now();
  if (p_.timing == "as-fast-as-possible") {
    while (outstanding_ < static_cast<std::uint64_t>(p_.depth))
      if (not issue())
        break;
    return;
  }
  // Time modes: every I/O due by now, then wait for the next one's time (one pending event at a time).
  do {
    if (not issue())
      return;
    if (next_ >= trace_->ios.size()) {
      if (not p_.loop)
        return;
      next_ = 0;
      pass_++;
    }
  } while (due_s() <= now);
  sim_->events().schedule_in(due_s() - now, this, next_due);
}

void ReplaySource::end_io(Request* r, double)
{
  double now = sim_->events().now();
  completed_++;
  ++window_completed_;
  outstanding_--;
  last_complete_s_ = now;
  q_to_c_.record(now - r->submit_s);
  done_.emit({now, r});
  sim_->pool().put(r);
  if (p_.timing == "as-fast-as-possible")
    issue();
}

std::optional<Occupancy> ReplaySource::occupancy() const
{
  return Occupancy{submitted_, completed_, outstanding_};
}

PVSIM_REGISTER_MODEL(ReplaySource);

} // namespace pvsim
