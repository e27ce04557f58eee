#include "analysis/commands/fio_workload.hpp"

#include "models/linux/cpu_list.hpp"
#include "sim/input_error.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>
#include <sstream>

namespace pvsim {

namespace fs = std::filesystem;
using readers::FioJobSection;
using readers::FioOption;
using readers::FioOptions;

namespace {

constexpr const char* job_type = "job.fio";

/** Options mapped onto job.fio's parameters (their timing is modelled). */
const std::set<std::string>& modelled_options()
{
  static const std::set<std::string> s = {"rw",
                                          "rwmixread",
                                          "rwmixwrite",
                                          "bs",
                                          "bssplit",
                                          "bsrange",
                                          "iodepth",
                                          "numjobs",
                                          "ioengine",
                                          "direct",
                                          "buffered",
                                          "size",
                                          "number_ios",
                                          "runtime",
                                          "time_based",
                                          "ramp_time",
                                          "startdelay",
                                          "rate",
                                          "rate_iops",
                                          "rate_process",
                                          "thinktime",
                                          "cpus_allowed",
                                          "kb_base",
                                          "iodepth_batch",
                                          "iodepth_batch_submit",
                                          "iodepth_batch_complete",
                                          "iodepth_batch_complete_min",
                                          "iodepth_batch_complete_max",
                                          "thinktime_blocks",
                                          "thinktime_spin"};
  return s;
}

/** Options used only for the report (fio.json). */
const std::set<std::string>& reporting_options()
{
  static const std::set<std::string> s = {"group_reporting", "new_group", "percentile_list"};
  return s;
}

/** Options accepted because they do not change timing in pvsim, and why. */
const std::map<std::string, std::string>& timing_free_options()
{
  static const std::map<std::string, std::string> m = {
      {"name", "a label"},
      {"description", "a label"},
      {"filename", "file placement is not modelled: the scenario's target is the device"},
      {"directory", "file placement is not modelled: the scenario's target is the device"},
      {"nrfiles", "the files share the scenario's target; their count does not change timing in pvsim"},
      {"filesize", "offsets fall in size; the file's size does not change timing in pvsim"},
      {"thread", "threads and processes cost the same in pvsim"},
      {"random_distribution", "offsets change no model's timing (requests are block-aligned)"},
      {"norandommap", "offsets change no model's timing (requests are block-aligned)"},
      {"randrepeat", "pvsim's random streams come from the scenario's seed"},
      {"allrandrepeat", "pvsim's random streams come from the scenario's seed"},
      {"randseed", "pvsim's random streams come from the scenario's seed (--seed)"},
      {"offset", "offsets change no model's timing (requests are block-aligned)"},
      {"offset_increment", "offsets change no model's timing (requests are block-aligned)"},
      {"invalidate", "no page cache is modelled (direct I/O)"},
      {"lat_percentiles", "fio.json reports the percentiles of clat, slat and lat"},
      {"clat_percentiles", "fio.json reports the percentiles of clat, slat and lat"},
      {"slat_percentiles", "fio.json reports the percentiles of clat, slat and lat"},
      {"write_lat_log", "fio's logs are not written (pvsim run --trace writes per-request traces)"},
      {"write_bw_log", "fio's logs are not written"},
      {"write_iops_log", "fio's logs are not written"},
      {"write_hist_log", "fio's logs are not written"},
      {"log_avg_msec", "fio's logs are not written"},
      {"log_hist_msec", "fio's logs are not written"},
      {"per_job_logs", "fio's logs are not written"},
      {"cpus_allowed_policy", "copies stay on the vCPU they are placed on (as cpus_allowed_policy=split)"},
      {"stonewall", "on the first job it waits for nothing"},
      {"wait_for_previous", "on the first job it waits for nothing"},
  };
  return m;
}

std::string join(const std::set<std::string>& s)
{
  std::string out;
  for (const auto& k : s)
    out += (out.empty() ? "" : ", ") + k;
  return out;
}

std::string supported_list()
{
  std::set<std::string> all = modelled_options();
  all.insert(reporting_options().begin(), reporting_options().end());
  for (const auto& [k, v] : timing_free_options())
    all.insert(k);
  return join(all);
}

[[noreturn]] void refuse(const std::string& file, const FioOption& o, const std::string& why)
{
  throw InputError(file, o.where, "option '" + o.spelled + (o.bare ? "" : "=" + o.value) + "' is refused: " + why);
}

const FioOption* find(const FioOptions& options, const std::string& key)
{
  auto it = options.find(key);
  return it == options.end() ? nullptr : &it->second;
}

/** Sets a quantity parameter as `name_suffix`, removing any other spelling of it the template had. */
void set_quantity(json& c, const std::string& name, const std::string& suffix, double value)
{
  for (auto it = c.begin(); it != c.end();)
    if (it.key() == name or it.key().rfind(name + "_", 0) == 0)
      it = c.erase(it);
    else
      ++it;
  c[name + "_" + suffix] = value;
}

void erase_quantity(json& c, const std::string& name)
{
  for (auto it = c.begin(); it != c.end();)
    if (it.key() == name or it.key().rfind(name + "_", 0) == 0)
      it = c.erase(it);
    else
      ++it;
}

std::int64_t int_value(const FioOptions& options, const std::string& key, std::int64_t def, std::int64_t min,
                       std::int64_t max, const std::string& file)
{
  const FioOption* o = find(options, key);
  if (not o)
    return def;
  if (o->bare)
    throw InputError(file, o->where, "option '" + key + "' needs a value ('" + key + "=...')");
  return readers::parse_fio_int(o->value, min, max, file, o->where);
}

std::vector<double> percentile_list(const FioOptions& options, const std::string& file)
{
  const FioOption* o = find(options, "percentile_list");
  if (not o)
    return fio_default_percentiles();
  std::vector<double> out;
  std::stringstream in(o->value);
  std::string part;
  while (std::getline(in, part, ':')) {
    char* end = nullptr;
    double v  = std::strtod(part.c_str(), &end);
    if (part.empty() or *end != '\0' or v < 0 or v > 100)
      throw InputError(file, o->where,
                       "percentile_list: expected percentages separated by ':' (e.g. 50:99:99.9), found '" + o->value +
                           "'");
    out.push_back(v);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string seconds(double s)
{
  std::ostringstream o;
  o << s << " s";
  return o.str();
}

bool time_based_job(const FioOptions& options, const std::string& file)
{
  const FioOption* o = find(options, "time_based");
  return o and readers::parse_fio_bool(o->value, file, o->where);
}

/** fio's jobs are processes: the scheduler spreads the busy ones over the idle CPUs, all jobs of the file together
 * (job.fio spreads the copies of one job). The jobs without their own cpus_allowed get, in file order, evenly spaced
 * vCPUs of the template's (its cpus_allowed, or all of the guest's), so that two jobs do not both start on vCPU 0. */
void spread_over_vcpus(json& made, const std::vector<std::string>& names, const json& tpl, const json& comp)
{
  std::vector<int> cpus;
  if (tpl.contains("cpus_allowed") and tpl["cpus_allowed"].is_string() and
      not tpl["cpus_allowed"].get<std::string>().empty()) {
    auto list = parse_cpu_list(tpl["cpus_allowed"].get<std::string>());
    if (not list)
      return; // job.fio's validation names the error
    cpus = *list;
  } else {
    long long vcpus = 1; // guest.vm's default
    if (tpl.contains("vm") and tpl["vm"].is_string() and comp.contains(tpl["vm"].get<std::string>())) {
      const json& vm = comp[tpl["vm"].get<std::string>()];
      if (vm.contains("vcpus") and vm["vcpus"].is_number_integer())
        vcpus = vm["vcpus"].get<long long>();
    }
    for (long long c = 0; c < vcpus; ++c)
      cpus.push_back(static_cast<int>(c));
  }
  std::vector<std::pair<std::string, long long>> spread; // job, copies
  long long total = 0;
  for (const auto& n : names) {
    const json& c = made[n];
    if (c.contains("cpus_allowed") and c["cpus_allowed"] != tpl.value("cpus_allowed", json()))
      continue; // the job's own cpus_allowed
    spread.emplace_back(n, c["numjobs"].get<long long>());
    total += spread.back().second;
  }
  if (spread.size() < 2 or cpus.empty())
    return; // one job: job.fio spreads its copies itself
  auto n      = static_cast<long long>(cpus.size());
  long long k = 0;
  for (const auto& [name, copies] : spread) {
    std::string list;
    for (long long i = 0; i < copies; ++i, ++k) {
      long long slot = total <= n ? k * n / total : k % n;
      if (not list.empty())
        list += ',';
      list += std::to_string(cpus[static_cast<std::size_t>(slot)]);
    }
    made[name]["cpus_allowed"] = list;
  }
}

/** The one value of a per-direction option ("read,write") that a job of these directions uses; refused when a
 * mixed job gives its directions different values. */
std::string one_direction(const FioOption& o, bool reads, bool writes, const std::string& file)
{
  auto parts = readers::split_fio_directions(o.value);
  if (reads and writes and parts[0] != parts[1])
    refuse(file, o, "different values for reads and writes are not modelled: a job.fio has one block size mix");
  return parts[reads ? 0 : 1];
}

/** bsrange and bssplit (fio HOWTO): sizes between two bounds, or sizes with their percentages; bs becomes the
 * smallest size (fio's minimum block size, which aligns the offsets). */
double block_sizes(const FioOptions& opt, const std::string& file, bool reads, bool writes, json& c, double bs_bytes)
{
  const FioOption* range = find(opt, "bsrange");
  const FioOption* split = find(opt, "bssplit");
  if (range and split)
    refuse(file, *range, "give bsrange or bssplit, not both (" + split->where + ")");
  const unsigned kb_base = readers::fio_kb_base(opt, file);
  if (range) {
    std::string v = one_direction(*range, reads, writes, file);
    auto dash     = v.find('-');
    if (dash == std::string::npos)
      throw InputError(file, range->where, "bsrange: expected MIN-MAX such as 4k-64k, found '" + v + "'");
    auto lo = readers::parse_fio_size(v.substr(0, dash), kb_base, file, range->where);
    auto hi = readers::parse_fio_size(v.substr(dash + 1), kb_base, file, range->where);
    if (lo < 512 or hi < lo)
      throw InputError(file, range->where, "bsrange: expected 512 <= MIN <= MAX, found '" + v + "'");
    set_quantity(c, "bs", "bytes", static_cast<double>(lo));
    if (hi > lo)
      c["bsrange_max_bytes"] = static_cast<double>(hi);
    auto steps = static_cast<double>(hi / lo);
    return static_cast<double>(lo) * (1 + steps) / 2; // the mean of lo, 2 lo, ... steps lo
  }
  if (split) {
    std::string v = one_direction(*split, reads, writes, file);
    std::vector<long long> sizes, shares;
    std::vector<std::size_t> unset;
    long long given = 0;
    std::stringstream in(v);
    std::string entry;
    while (std::getline(in, entry, ':')) {
      auto slash = entry.find('/');
      auto size  = readers::parse_fio_size(entry.substr(0, slash), kb_base, file, split->where);
      if (size < 512)
        throw InputError(file, split->where, "bssplit: block sizes below 512 bytes are not modelled");
      sizes.push_back(static_cast<long long>(size));
      if (slash == std::string::npos or slash + 1 == entry.size()) {
        unset.push_back(shares.size());
        shares.push_back(0);
      } else {
        shares.push_back(readers::parse_fio_int(entry.substr(slash + 1), 0, 100, file, split->where));
        given += shares.back();
      }
    }
    if (sizes.empty() or given > 100 or (unset.empty() and given != 100))
      throw InputError(file, split->where,
                       "bssplit: expected SIZE/PERCENT entries separated by ':' whose percentages add up to 100 "
                       "(entries without one share the rest), found '" +
                           v + "'");
    // fio gives the entries without a percentage equal parts of the rest; the last one takes the rounding.
    long long rest = 100 - given;
    for (std::size_t i = 0; i < unset.size(); ++i)
      shares[unset[i]] = rest / static_cast<long long>(unset.size()) +
                         (i + 1 == unset.size() ? rest % static_cast<long long>(unset.size()) : 0);
    set_quantity(c, "bs", "bytes", static_cast<double>(*std::min_element(sizes.begin(), sizes.end())));
    c["bssplit_bytes"]   = sizes;
    c["bssplit_percent"] = shares;
    double mean          = 0;
    for (std::size_t i = 0; i < sizes.size(); ++i)
      mean += static_cast<double>(sizes[i]) * static_cast<double>(shares[i]) / 100;
    return mean;
  }
  return bs_bytes;
}

} // namespace

const std::vector<double>& fio_default_percentiles()
{
  static const std::vector<double> p = {1, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 99, 99.5, 99.9, 99.95, 99.99};
  return p;
}

json fio_section_to_component(const FioJobSection& job, const std::string& file, const json& template_params,
                              std::vector<std::string>& notes)
{
  const FioOptions& opt = job.options;
  const std::string who = "job '" + job.name + "' (" + file + " line " + std::to_string(job.line) + ")";

  // Refuse first, so that the message names the option rather than a consequence of it.
  for (const auto& [key, o] : opt) {
    if (modelled_options().count(key) or reporting_options().count(key))
      continue;
    if (not timing_free_options().count(key))
      refuse(file, o,
             "pvsim does not model it (it changes I/O timing or needs state pvsim does not keep); supported: " +
                 supported_list());
  }

  json c = template_params;
  for (const char* k :
       {"rw", "rwmixread", "number_ios", "iodepth", "numjobs", "rate_iops", "rate_process", "think_time", "job_file"})
    c.erase(k);
  for (const char* k : {"bs", "size", "startdelay", "runtime", "bsrange_max"})
    erase_quantity(c, k);
  c.erase("bssplit_bytes");
  c.erase("bssplit_percent");

  std::string rw = readers::fio_rw(opt, file);
  if (const FioOption* o = find(opt, "rw"); o and o->value.find(':') != std::string::npos)
    notes.push_back(who + ": the offset modifier of rw='" + o->value + "' changes no model's timing");
  if (rw == "trim" or rw == "randtrim" or rw == "trimwrite" or rw == "randtrimwrite")
    refuse(file, *find(opt, "rw"),
           "trims are not modelled (supported: read, write, randread, randwrite, rw, "
           "readwrite, randrw)");
  const bool reads  = readers::fio_rw_reads(rw);
  const bool writes = readers::fio_rw_writes(rw);
  const bool mixed  = reads and writes;
  c["rw"]           = rw;
  if (mixed)
    c["rwmixread"] = readers::fio_rwmixread(opt, file);

  auto bs = readers::fio_bs_bytes(opt, file);
  if (mixed and bs[0] != bs[1])
    refuse(file, *find(opt, "bs"),
           "different read and write block sizes (" + std::to_string(bs[0]) + ", " + std::to_string(bs[1]) +
               ") are not modelled: a job.fio has one block size");
  double bs_bytes = static_cast<double>(reads ? bs[0] : bs[1]);
  if (bs_bytes < 512)
    refuse(file, *find(opt, "bs"), "block sizes below 512 bytes are not modelled");
  set_quantity(c, "bs", "bytes", bs_bytes);
  bs_bytes = block_sizes(opt, file, reads, writes, c, bs_bytes); // from here: the mean size

  // The engine: asynchronous ones keep iodepth in flight, synchronous ones one.
  static const std::set<std::string> async_engines = {"libaio", "io_uring", "posixaio"};
  static const std::set<std::string> sync_engines  = {"sync", "psync", "vsync", "pvsync", "pvsync2"};
  std::string engine                               = readers::fio_ioengine(opt, file);
  int iodepth                                      = readers::fio_iodepth(opt, file);
  if (sync_engines.count(engine)) {
    if (iodepth > 1)
      notes.push_back(who + ": ioengine=" + engine + " is synchronous: one I/O in flight per copy (iodepth=" +
                      std::to_string(iodepth) + " has no effect, as in fio)");
    iodepth = 1;
  } else if (not async_engines.count(engine)) {
    refuse(file, *find(opt, "ioengine"),
           "pvsim models the guest's submission of libaio, io_uring, posixaio (iodepth in flight) and sync, psync, "
           "vsync, pvsync, pvsync2 (one in flight)");
  }
  c["iodepth"] = iodepth;
  c["numjobs"] = readers::fio_numjobs(opt, file);

  // Batching: pvsim submits and reaps one request at a time, fio's defaults.
  for (const char* k :
       {"iodepth_batch", "iodepth_batch_submit", "iodepth_batch_complete", "iodepth_batch_complete_min"})
    if (const FioOption* o = find(opt, k); o and int_value(opt, k, 1, 0, 1 << 20, file) > 1)
      refuse(file, *o,
             "batched submission or reaping is not modelled (pvsim submits and reaps one I/O at a time: values 0 "
             "or 1)");
  if (find(opt, "iodepth_batch_complete_max"))
    int_value(opt, "iodepth_batch_complete_max", 0, 0, 1 << 20, file); // an upper bound: one at a time is within it
  if (const FioOption* o = find(opt, "thinktime_blocks");
      o and int_value(opt, "thinktime_blocks", 1, 0, 1 << 30, file) > 1)
    refuse(file, *o, "thinking after a batch of blocks is not modelled (1: after every I/O)");
  if (const FioOption* o = find(opt, "thinktime_spin");
      o and readers::parse_fio_time_s(o->value, readers::FioTimeUnit::microseconds, file, o->where) > 0)
    refuse(file, *o, "spinning on the CPU while thinking is not modelled");

  // direct I/O only.
  bool direct_given = find(opt, "direct") or find(opt, "buffered");
  if (direct_given and not readers::fio_direct(opt, file)) {
    const FioOption* o = find(opt, "direct") ? find(opt, "direct") : find(opt, "buffered");
    refuse(file, *o, "buffered I/O needs the page cache, which pvsim does not model: use direct=1");
  }
  if (not direct_given)
    notes.push_back(who + ": no direct=1: fio would do buffered I/O; pvsim simulates direct I/O (no page cache)");

  // How long and how much.
  const unsigned kb_base = readers::fio_kb_base(opt, file);
  bool time_based        = false;
  if (const FioOption* o = find(opt, "time_based"))
    time_based = readers::parse_fio_bool(o->value, file, o->where);
  std::optional<std::uint64_t> size;
  if (const FioOption* o = find(opt, "size")) {
    if (not o->value.empty() and o->value.back() == '%')
      refuse(file, *o, "a percentage of the device needs its size: give bytes (e.g. size=2g)");
    size = readers::parse_fio_size(o->value, kb_base, file, o->where);
    set_quantity(c, "size", "bytes", static_cast<double>(std::max<std::uint64_t>(*size, 512)));
  }
  std::uint64_t number_ios = 0;
  if (const FioOption* o = find(opt, "number_ios"))
    number_ios = readers::parse_fio_size(o->value, kb_base, file, o->where);
  if (size and not time_based) { // fio: the job is done once io_size (= size) bytes were transferred
    auto by_size = static_cast<std::uint64_t>(std::ceil(static_cast<double>(*size) / bs_bytes));
    number_ios   = number_ios > 0 ? std::min(number_ios, by_size) : by_size;
  }
  if (number_ios > 0)
    c["number_ios"] = number_ios;

  double startdelay = 0, ramp = 0;
  if (const FioOption* o = find(opt, "startdelay"))
    startdelay = readers::parse_fio_time_s(o->value, readers::FioTimeUnit::seconds, file, o->where);
  if (const FioOption* o = find(opt, "ramp_time"))
    ramp = readers::parse_fio_time_s(o->value, readers::FioTimeUnit::seconds, file, o->where);
  if (startdelay > 0)
    set_quantity(c, "startdelay", "s", startdelay);
  if (auto runtime = readers::fio_runtime_s(opt, file))
    set_quantity(c, "runtime", "s", ramp + *runtime); // ramp_time is lead-in time: it adds to runtime

  // Rate.
  const FioOption* rate      = find(opt, "rate");
  const FioOption* rate_iops = find(opt, "rate_iops");
  if ((rate or rate_iops) and mixed)
    refuse(file, rate ? *rate : *rate_iops,
           "fio caps each direction of a mixed job on its own, which job.fio does not model: give the rate on a "
           "read-only or write-only job");
  const std::size_t dir = reads ? 0 : 1;
  if (rate) {
    auto parts = readers::split_fio_directions(rate->value);
    if (not parts[dir].empty()) {
      auto Bps = readers::parse_fio_size(parts[dir], kb_base, file, rate->where);
      if (Bps > 0)
        c["rate_iops"] = static_cast<double>(Bps) / bs_bytes;
    }
  }
  if (rate_iops) {
    if (rate)
      refuse(file, *rate_iops, "give rate or rate_iops, not both (" + rate->where + ")");
    auto parts = readers::split_fio_directions(rate_iops->value);
    if (not parts[dir].empty()) {
      auto iops = readers::parse_fio_int(parts[dir], 0, 1'000'000'000, file, rate_iops->where);
      if (iops > 0)
        c["rate_iops"] = static_cast<double>(iops);
    }
  }
  if (const FioOption* o = find(opt, "rate_process")) {
    if (o->value != "linear" and o->value != "poisson")
      refuse(file, *o, "expected linear or poisson");
    c["rate_process"] = o->value;
  }

  if (const FioOption* o = find(opt, "thinktime")) {
    double s = readers::parse_fio_time_s(o->value, readers::FioTimeUnit::microseconds, file, o->where);
    if (s > 0)
      c["think_time"] = {{"dist", "deterministic"}, {"value_s", s}};
  }
  if (const FioOption* o = find(opt, "cpus_allowed")) {
    if (o->bare or o->value.empty())
      throw InputError(file, o->where, "cpus_allowed needs a list of CPUs, e.g. cpus_allowed=0-3");
    c["cpus_allowed"] = o->value;
  }
  for (const auto& [key, o] : opt)
    if (auto free = timing_free_options().find(key); free != timing_free_options().end() and key != "name")
      notes.push_back(who + ": " + key + " accepted, ignored: " + free->second);
  return c;
}

FioWorkload expand_fio_job_files(Scenario& scenario, const std::string& cli_job_file, const std::string& template_name)
{
  json doc   = scenario.document;
  json& comp = doc["components"];
  if (not cli_job_file.empty()) {
    std::vector<std::string> jobs;
    for (auto& [name, c] : comp.items())
      if (c.value("type", "") == job_type)
        jobs.push_back(name);
    std::string chosen = template_name;
    if (chosen.empty()) {
      if (jobs.size() != 1) {
        std::string list;
        for (const auto& j : jobs)
          list += (list.empty() ? "" : ", ") + j;
        throw InputError(scenario.file, "/components",
                         jobs.empty() ? std::string("--fio needs a job.fio component in the scenario as the template "
                                                    "(its vm, target and CPU costs), and there is none")
                                      : "--fio: the scenario has several job.fio components (" + list +
                                            "): name the template with --fio-template");
      }
      chosen = jobs.front();
    } else if (std::find(jobs.begin(), jobs.end(), chosen) == jobs.end()) {
      throw InputError(scenario.file, "/components",
                       "--fio-template '" + chosen + "' is not a job.fio component" + did_you_mean(chosen, jobs));
    }
    comp[chosen]["job_file"] = fs::absolute(cli_job_file).string();
  } else if (not template_name.empty()) {
    throw InputError("", "--fio-template", "given without --fio JOBFILE");
  }

  FioWorkload out;
  std::vector<std::string> templates;
  for (auto& [name, c] : comp.items())
    if (c.is_object() and c.value("type", "") == job_type and c.contains("job_file"))
      templates.push_back(name);
  if (templates.empty())
    return out;

  json made            = json::object();
  double warmup_needed = 0;
  for (const auto& t : templates) {
    std::vector<std::string> section_names;
    json tpl = comp[t];
    JsonNode node(tpl, scenario.file, "/components/" + pointer_token(t));
    if (not tpl["job_file"].is_string() or tpl["job_file"].get<std::string>().empty())
      node.child("job_file").fail("expected the path of a fio job file");
    fs::path path(tpl["job_file"].get<std::string>());
    if (path.is_relative()) // relative to the scenario file, as the scenario's other files
      path = fs::path(scenario.file).parent_path() / path;
    auto jf = readers::read_fio_jobfile(path.string());
    if (jf.jobs.empty())
      throw InputError(jf.file, "", "no job section (a job file needs at least one [name] section besides [global])");
    for (const auto& [k, o] : jf.global_options)
      out.global_options[o.spelled] = o.value;
    int groupid = 0;
    for (std::size_t i = 0; i < jf.jobs.size(); ++i) {
      const FioJobSection& job = jf.jobs[i];
      for (const char* k : {"stonewall", "wait_for_previous", "wait_for"})
        if (const FioOption* o = find(job.options, k); o and i > 0 and (o->bare or o->value != "0"))
          refuse(jf.file, *o,
                 "jobs run at the same time in pvsim: sequencing jobs (stonewall, wait_for) is not modelled; run "
                 "the groups as separate scenarios");
      if (i > 0)
        if (const FioOption* o = find(job.own_options, "new_group"); o and (o->bare or o->value != "0"))
          ++groupid;
      if (made.contains(job.name) or (comp.contains(job.name) and job.name != t))
        throw InputError(jf.file, "line " + std::to_string(job.line),
                         "job '" + job.name + "' has the name of another " +
                             (made.contains(job.name) ? "job of the workload" : "component of the scenario") +
                             ": rename the section");
      made[job.name] = fio_section_to_component(job, jf.file, tpl, out.notes);
      section_names.push_back(job.name);
      if (auto runtime = readers::fio_runtime_s(job.options, jf.file);
          runtime and time_based_job(job.options, jf.file) and *runtime < scenario.params.duration_s)
        out.notes.push_back("job '" + job.name +
                            "': runtime ends before the scenario's duration: its IOPS count over the whole window");
      else if (runtime and *runtime > scenario.params.duration_s)
        out.notes.push_back("job '" + job.name + "': runtime " + seconds(*runtime) +
                            " is cut at the scenario's duration (" + seconds(scenario.params.duration_s) +
                            "; --set duration=... to run longer)");
      FioJobOrigin origin;
      origin.jobname = job.name;
      origin.file    = jf.file;
      origin.groupid = groupid;
      if (const FioOption* o = find(job.options, "group_reporting"))
        origin.group_reporting = readers::parse_fio_bool(o->value, jf.file, o->where);
      origin.job_options["name"] = job.name;
      for (const auto& [k, o] : job.own_options)
        origin.job_options[o.spelled] = o.value;
      origin.percentiles = percentile_list(job.options, jf.file);
      out.jobs[job.name] = origin;
      out.order.push_back(job.name);
      double ramp = 0, delay = 0;
      if (const FioOption* o = find(job.options, "ramp_time"))
        ramp = readers::parse_fio_time_s(o->value, readers::FioTimeUnit::seconds, jf.file, o->where);
      if (const FioOption* o = find(job.options, "startdelay"))
        delay = readers::parse_fio_time_s(o->value, readers::FioTimeUnit::seconds, jf.file, o->where);
      if (ramp > 0)
        warmup_needed = std::max(warmup_needed, delay + ramp);
    }
    spread_over_vcpus(made, section_names, tpl, comp);
    comp.erase(t);
  }
  for (auto& [name, c] : made.items())
    comp[name] = c;
  if (warmup_needed > 0) {
    double warmup = scenario.params.warmup_s;
    if (warmup_needed > warmup) {
      doc.erase("warmup");
      for (const char* k : {"warmup_s", "warmup_ms", "warmup_us", "warmup_ns"})
        doc.erase(k);
      doc["warmup_s"] = warmup_needed;
      out.notes.push_back("the run's warm-up becomes " + seconds(warmup_needed) +
                          " (the longest startdelay + ramp_time): pvsim measures all jobs after one warm-up");
    }
    if (warmup_needed >= scenario.params.duration_s)
      throw InputError(scenario.file, "/duration",
                       "the job file's startdelay + ramp_time (" + seconds(warmup_needed) +
                           ") leaves nothing of the scenario's duration to measure: raise it (--set duration=...)");
  }
  auto origins = scenario.origins;
  scenario     = scenario_from_json(std::move(doc), scenario.file);
  scenario.origins.merge(origins);
  return out;
}

} // namespace pvsim
