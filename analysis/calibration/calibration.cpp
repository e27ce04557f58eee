/* pvsim: `pvsim calibrate` (see calibration.hpp for how each parameter is estimated; direction_fit.hpp for the
 * steps of one direction's fit). */
#include "analysis/calibration/calibration.hpp"

#include "analysis/calibration/direction_fit.hpp"
#include "sim/input_error.hpp"
#include "sim/scenario.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>

namespace pvsim::calibration {

namespace {

constexpr int device_format_version = 1;
constexpr const char* device_format = "pvsim-device-calibration";

} // namespace

json calibrate(const std::vector<std::string>& trace_files)
{
  if (trace_files.empty())
    throw InputError("", "--trace", "no trace given (expected one or more fio json+ result files)");
  std::vector<RunFacts> runs;
  for (const auto& file : trace_files)
    for (auto& f : run_facts(readers::read_fio_json(file)))
      runs.push_back(std::move(f));

  json doc;
  doc["format"]  = device_format;
  doc["version"] = device_format_version;
  doc["comment"] =
      "Fitted by `pvsim calibrate` from fio json+ results. Per direction: cpu_per_io = (usr_cpu + sys_cpu)/100 x "
      "job_runtime / ios; submit_cpu = slat mean of the deepest async run (kicks suppressed); kick_cpu = slat at "
      "iodepth 1 - submit_cpu; complete_cpu = cpu_per_io - slat at the deepest async run; wakeup_cpu = "
      "cpu_per_io - slat - complete_cpu at iodepth 1 (fio's thread asleep for every I/O); service = iodepth-1 clat "
      "bins shifted down by the model's fixed completion "
      "path (empirical); request_cpu (the virtqueue's thread) = 1/X_sat - iocb_cpu - used_cpu (that thread "
      "saturated at the deepest runs, less the share preemption takes); preemption = the iodepth-1 clat above 10x the "
      "median (rate = their share / median clat per CPU-second, durations = latency - median); the device gets as "
      "many channels as tags. Baselines: R1 = 1/(IOPS per thread "
      "at iodepth 1), Z = R1 - S, c = round(X_sat x S), Xmax = X_sat. The guest is assumed, not "
      "fitted: edit 'guest' for another machine.";
  doc["sources"]  = trace_files;
  doc["guest"]    = {{"vcpus", 2}, {"hw_queues", 1}, {"tags", 128}, {"estimated", "assumed (not in fio's output)"}};
  json not_fitted = json::array();
  json params     = json::object();
  json baselines  = json::object();

  detail::HostPreemption preemption;
  for (const std::string dir : {"read", "write"}) {
    std::vector<const RunFacts*> d;
    for (const auto& r : runs)
      if (r.direction == dir)
        d.push_back(&r);
    if (d.empty()) {
      not_fitted.push_back(dir + ": no run with " + dir + "s");
      continue;
    }
    detail::DirectionFit fit(dir, std::move(d), not_fitted);
    fit.fit_cpu_costs();
    fit.fit_preemption(preemption);
    fit.fit_bottleneck(preemption);
    fit.fit_service();
    fit.fit_channels_and_baselines(baselines);
    params[dir] = fit.params();
  }
  doc["parameters"] = params;
  doc["baselines"]  = baselines;

  // The scenario fragment: the device and the CPU costs (the read side's, the write side's when reads are absent).
  const json& main = params.contains("read") ? params["read"] : params["write"];
  auto cost        = [&](const char* key) -> std::optional<std::string> {
    if (main.contains(key))
      return detail::us(main[key]["value_us"].get<double>() * 1e-6);
    return std::nullopt;
  };
  json dev = {{"type", "device.parallel"}, {"channels", doc["guest"]["tags"]}};
  if (main.contains("channels"))
    dev["channels"] = main["channels"]["value"];
  for (const std::string dir : {"read", "write"})
    if (params.contains(dir) and params[dir].contains("service"))
      dev[dir + "_service"] = params[dir]["service"]["value"];
  if (not dev.contains("read_service") and dev.contains("write_service"))
    dev["read_service"] = dev["write_service"];
  json fio = {{"type", "job.fio"}};
  if (auto c = cost("submit_cpu"))
    fio["submit_cpu"] = *c;
  if (auto c = cost("complete_cpu"))
    fio["complete_cpu"] = *c;
  if (auto c = cost("wakeup_cpu"))
    fio["wakeup_cpu"] = *c;
  json vda = {{"type", "virtio.blk"}};
  if (auto c = cost("request_cpu"))
    vda["request_cpu"] = *c;
  if (auto c = cost("kick_cpu"))
    vda["kick_cpu"] = *c;
  if (auto c = cost("wakeup_cpu")) // kblockd's kworker waking to run a restarted queue: this guest's wake-up cost
    vda["restart_cpu"] = *c;
  json frag = {{"fio", fio}, {"vda", vda}, {"disk", dev}};
  if (preemption.rate_hz) {
    doc["preemption"] = preemption.doc;
    // Every host thread of the stack (the vCPUs, the virtqueue's thread) is preempted alike.
    json cpus             = {{"preempt_rate", std::to_string(*preemption.rate_hz) + "Hz"},
                             {"preempt_duration", preemption.doc["duration"]}};
    frag["host"]          = cpus;
    frag["iothread_cpus"] = cpus;
  } else {
    not_fitted.push_back("preemption: no rare iodepth-1 latency tail (10 or more latencies above " +
                         std::to_string(static_cast<int>(detail::tail_over_median)) + "x the median, at most " +
                         std::to_string(static_cast<int>(detail::max_preempted_share * 100)) + " % of them)");
  }
  doc["not_fitted"]        = not_fitted; // after the preemption's note (it was copied before, and lost)
  doc["scenario_fragment"] = {{"components", frag}};
  return doc;
}

json read_device_file(const std::string& path)
{
  json doc = read_json_file(path, "device file");
  if (not doc.is_object() or not doc.contains("format") or doc["format"] != device_format)
    throw InputError(path, "/format",
                     std::string("expected \"") + device_format + "\" (a file written by pvsim calibrate)");
  if (not doc.contains("version") or not doc["version"].is_number_integer() or doc["version"] != device_format_version)
    throw InputError(path, "/version", "expected version " + std::to_string(device_format_version));
  for (const char* key : {"guest", "scenario_fragment", "parameters"})
    if (not doc.contains(key) or not doc[key].is_object())
      throw InputError(path, std::string("/") + key, "missing or not an object");
  for (const char* key : {"vcpus", "hw_queues", "tags"})
    if (not doc["guest"].contains(key) or not doc["guest"][key].is_number_integer() or doc["guest"][key] < 1)
      throw InputError(path, std::string("/guest/") + key, "expected a positive integer");
  if (not doc["scenario_fragment"].contains("components") or not doc["scenario_fragment"]["components"].is_object())
    throw InputError(path, "/scenario_fragment/components", "missing or not an object");
  return doc;
}

json scenario_for_run(const json& device, const RunFacts& run, double duration_s, double warmup_s, std::uint64_t seed)
{
  const json& g        = device["guest"];
  long long vcpus      = g["vcpus"].get<long long>();
  long long queues     = g["hw_queues"].get<long long>();
  long long tags       = g["tags"].get<long long>();
  json comps           = device["scenario_fragment"]["components"];
  json fio             = comps.value("fio", json::object());
  fio["type"]          = "job.fio";
  fio["vm"]            = "guest";
  fio["target"]        = "blkmq";
  fio["iodepth"]       = run.iodepth;
  fio["numjobs"]       = run.numjobs;
  fio["rw"]            = run.rw;
  fio["bs"]            = std::to_string(run.bs) + "B";
  json vda             = comps.value("vda", json::object());
  vda["type"]          = "virtio.blk";
  vda["vm"]            = "guest";
  vda["target"]        = "disk";
  vda["iothread"]      = "iot";
  vda["num_queues"]    = queues;
  vda["queue_size"]    = 2 * tags; // no indirect descriptors: blk-mq's depth is half the virtqueue
  vda["indirect_desc"] = false;
  json disk            = comps.value("disk", json::object());
  disk["type"]         = "device.parallel";
  json host            = comps.value("host", json::object());
  host["type"]         = "cpu.host";
  host["cores"]        = vcpus;
  json iot_cpus        = comps.value("iothread_cpus", json::object());
  iot_cpus["type"]     = "cpu.host";
  iot_cpus["cores"]    = 1;
  // The one thread serving the virtqueue stands for the recording's device thread: Firecracker's VMM thread (an
  // epoll loop, virtio-vm-1q) or QEMU's main loop, neither of which polls (aio_context_new() leaves poll_max_ns at 0);
  // only a QEMU IOThread polls, and a device file may say so with iot.poll_max.
  json iot    = comps.value("iot", json::object());
  iot["type"] = "qemu.iothread";
  iot["cpus"] = "iothread_cpus";
  iot["aio"]  = iot.value("aio", std::string("native"));
  if (not iot.contains("poll_max"))
    iot["poll_max"] = "0s";
  // The guest's CPU per request is fitted from fio's measured CPU, which holds what sleeping for tags cost in the
  // recorded runs: blk_mq's own tag sleep and wake-up costs would count it twice (a device file may set them).
  json blkmq = comps.value("blkmq", json::object());
  blkmq.update({{"type", "blk_mq"}, {"vm", "guest"}, {"target", "vda"}, {"queue_depth", tags}});
  if (not blkmq.contains("tag_sleep_cpu"))
    blkmq["tag_sleep_cpu"] = "0us";
  if (not blkmq.contains("tag_wake_cpu"))
    blkmq["tag_wake_cpu"] = "0us";
  json doc = {{"name", "validate-" + run.file.substr(run.file.find_last_of('/') + 1)},
              {"description", "pvsim validate: the calibrated virtio-blk stack running " + run.rw + " " + run.engine +
                                  " iodepth " + std::to_string(run.iodepth) + " numjobs " +
                                  std::to_string(run.numjobs)},
              {"seed", seed},
              {"duration", detail::us(duration_s)},
              {"warmup", detail::us(warmup_s)},
              {"components",
               {{"host", host},
                {"iothread_cpus", iot_cpus},
                {"guest", {{"type", "guest.vm"}, {"vcpus", vcpus}, {"pcpus", "host"}}},
                {"fio", fio},
                {"blkmq", blkmq},
                {"vda", vda},
                {"iot", iot},
                {"disk", disk}}}};
  return doc;
}

} // namespace pvsim::calibration
