#include "analysis/readers/fio_json.hpp"

#include "analysis/readers/text_file.hpp"
#include "sim/input_error.hpp"
#include "sim/json_node.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <iterator>
#include <sstream>

namespace pvsim::readers {

using nlohmann::json;

namespace {

std::string trimmed(std::string_view s)
{
  while (not s.empty() and std::isspace(static_cast<unsigned char>(s.front())))
    s.remove_prefix(1);
  while (not s.empty() and std::isspace(static_cast<unsigned char>(s.back())))
    s.remove_suffix(1);
  return std::string(s);
}

std::string type_name(const json& v)
{
  return std::string(v.type_name());
}

/** Checked access to fio's JSON: every miss names the file, the JSON pointer and what was expected. */
class JsonReader {
public:
  explicit JsonReader(std::string file) : file_(std::move(file)) {}

  static std::string child(const std::string& ptr, const std::string& key) { return ptr + "/" + pointer_token(key); }

  const json& member(const json& obj, const std::string& ptr, const std::string& key) const
  {
    const json* v = optional_member(obj, ptr, key);
    if (v == nullptr) {
      std::vector<std::string> keys;
      for (const auto& item : obj.items())
        keys.push_back(item.key());
      throw InputError(file_, child(ptr, key), "missing field '" + key + "'" + did_you_mean(key, keys));
    }
    return *v;
  }

  const json* optional_member(const json& obj, const std::string& ptr, const std::string& key) const
  {
    if (not obj.is_object())
      throw InputError(file_, ptr.empty() ? "/" : ptr, "expected an object, found " + type_name(obj));
    auto it = obj.find(key);
    return it == obj.end() ? nullptr : &*it;
  }

  const json& object(const json& obj, const std::string& ptr, const std::string& key) const
  {
    const json& v = member(obj, ptr, key);
    if (not v.is_object())
      throw InputError(file_, child(ptr, key), "expected an object, found " + type_name(v));
    return v;
  }

  double number(const json& v, const std::string& ptr) const
  {
    if (not v.is_number())
      throw InputError(file_, ptr, "expected a number, found " + type_name(v) + " " + v.dump());
    return v.get<double>();
  }

  double number(const json& obj, const std::string& ptr, const std::string& key) const
  {
    return number(member(obj, ptr, key), child(ptr, key));
  }

  std::uint64_t count(const json& v, const std::string& ptr) const
  {
    if (v.is_number_unsigned())
      return v.get<std::uint64_t>();
    if (v.is_number_integer() and v.get<std::int64_t>() >= 0)
      return static_cast<std::uint64_t>(v.get<std::int64_t>());
    if (v.is_number_float()) {
      double d = v.get<double>();
      if (d >= 0 and d == std::floor(d) and d < 1.8e19)
        return static_cast<std::uint64_t>(d);
    }
    throw InputError(file_, ptr, "expected a non-negative integer, found " + type_name(v) + " " + v.dump());
  }

  std::uint64_t count(const json& obj, const std::string& ptr, const std::string& key) const
  {
    return count(member(obj, ptr, key), child(ptr, key));
  }

  std::int64_t integer(const json& obj, const std::string& ptr, const std::string& key) const
  {
    const json& v = member(obj, ptr, key);
    if (not v.is_number_integer())
      throw InputError(file_, child(ptr, key), "expected an integer, found " + type_name(v) + " " + v.dump());
    return v.get<std::int64_t>();
  }

  std::string string(const json& obj, const std::string& ptr, const std::string& key) const
  {
    const json& v = member(obj, ptr, key);
    if (not v.is_string())
      throw InputError(file_, child(ptr, key), "expected a string, found " + type_name(v) + " " + v.dump());
    return v.get<std::string>();
  }

  FioOptions options(const json& obj, const std::string& ptr) const
  {
    FioOptions out;
    if (not obj.is_object())
      throw InputError(file_, ptr, "expected an object of option strings, found " + type_name(obj));
    for (const auto& [key, value] : obj.items()) {
      FioOption o;
      o.where   = child(ptr, key);
      o.spelled = key;
      if (value.is_string())
        o.value = value.get<std::string>();
      else if (value.is_number() or value.is_boolean())
        o.value = value.dump();
      else
        throw InputError(file_, o.where, "expected an option value (a string), found " + type_name(value));
      out[canonical_fio_key(key)] = o;
    }
    return out;
  }

  FioLatency latency(const json& dir, const std::string& ptr, const std::string& key) const
  {
    const json& obj = object(dir, ptr, key);
    std::string p   = child(ptr, key);
    FioLatency lat;
    lat.count     = count(obj, p, "N");
    lat.min_ns    = number(obj, p, "min");
    lat.max_ns    = number(obj, p, "max");
    lat.mean_ns   = number(obj, p, "mean");
    lat.stddev_ns = number(obj, p, "stddev");
    if (const json* pct = optional_member(obj, p, "percentile")) {
      std::string pp = child(p, "percentile");
      if (not pct->is_object())
        throw InputError(file_, pp, "expected an object of percentiles, found " + type_name(*pct));
      for (const auto& [k, v] : pct->items()) {
        double percent = parse_double_key(k, pp, "a percentage such as \"99.900000\"");
        if (percent < 0 or percent > 100)
          throw InputError(file_, child(pp, k), "percentile key out of [0, 100]");
        lat.percentiles_ns[percent] = number(v, child(pp, k));
      }
    }
    if (const json* bins = optional_member(obj, p, "bins")) {
      std::string bp = child(p, "bins");
      if (not bins->is_object())
        throw InputError(file_, bp, "expected an object of latency bins (ns -> count), found " + type_name(*bins));
      lat.has_bins = true;
      for (const auto& [k, v] : bins->items()) {
        std::int64_t ns = 0;
        auto res        = std::from_chars(k.data(), k.data() + k.size(), ns);
        if (k.empty() or res.ec != std::errc() or res.ptr != k.data() + k.size() or ns < 0)
          throw InputError(file_, child(bp, k), "expected a bin key in integer nanoseconds, found \"" + k + "\"");
        lat.bins_ns[ns] += count(v, child(bp, k));
      }
    }
    return lat;
  }

  FioDirection direction(const json& job, const std::string& ptr, const std::string& key) const
  {
    const json& obj = object(job, ptr, key);
    std::string p   = child(ptr, key);
    FioDirection d;
    d.io_bytes  = count(obj, p, "io_bytes");
    d.iops      = number(obj, p, "iops");
    d.runtime_s = number(obj, p, "runtime") * 1e-3;
    d.total_ios = count(obj, p, "total_ios");
    if (const json* bw = optional_member(obj, p, "bw_bytes"))
      d.bw_Bps = number(*bw, child(p, "bw_bytes"));
    else if (const json* bwk = optional_member(obj, p, "bw"))
      d.bw_Bps = number(*bwk, child(p, "bw")) * 1024.0; // fio < 3.5: KiB/s only
    else
      throw InputError(file_, child(p, "bw_bytes"), "missing field 'bw_bytes' (or 'bw' in KiB/s)");
    d.slat = latency(obj, p, "slat_ns");
    d.clat = latency(obj, p, "clat_ns");
    d.lat  = latency(obj, p, "lat_ns");
    return d;
  }

private:
  double parse_double_key(const std::string& k, const std::string& ptr, const std::string& expected) const
  {
    try {
      std::size_t used = 0;
      double v         = std::stod(k, &used);
      if (used == k.size())
        return v;
    } catch (const std::exception&) {
    }
    throw InputError(file_, child(ptr, k), "expected " + expected + ", found \"" + k + "\"");
  }

  std::string file_;
};

/** Where the JSON object starts: the first line whose first non-blank character is '{'. */
std::size_t json_start(std::string_view text)
{
  std::size_t line_start = 0;
  while (line_start < text.size()) {
    std::size_t i = line_start;
    while (i < text.size() and (text[i] == ' ' or text[i] == '\t' or text[i] == '\r'))
      ++i;
    if (i < text.size() and text[i] == '{')
      return i;
    std::size_t nl = text.find('\n', line_start);
    if (nl == std::string_view::npos)
      break;
    line_start = nl + 1;
  }
  return std::string_view::npos;
}

std::string line_of(std::string_view text, std::size_t offset)
{
  offset = std::min(offset, text.size());
  return "line " +
         std::to_string(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(offset), '\n') + 1);
}

} // namespace

// ---- FioLatency ----------------------------------------------------------------------------------------------------

std::optional<double> FioLatency::percentile_ns(double percent) const
{
  for (const auto& [p, v] : percentiles_ns)
    if (std::abs(p - percent) < 1e-6)
      return v;
  return std::nullopt;
}

std::uint64_t FioLatency::bins_total() const
{
  std::uint64_t total = 0;
  for (const auto& [ns, n] : bins_ns)
    total += n;
  return total;
}

std::optional<double> FioLatency::percentile_from_bins_ns(double percent) const
{
  std::uint64_t total = bins_total();
  if (not has_bins or total == 0)
    return std::nullopt;
  // fio (stat.c, calc_clat_percentiles): the first bucket where the cumulative count reaches percent% of all.
  double threshold  = percent / 100.0 * static_cast<double>(total);
  std::uint64_t sum = 0;
  for (const auto& [ns, n] : bins_ns) {
    sum += n;
    if (static_cast<double>(sum) >= threshold)
      return static_cast<double>(ns);
  }
  return static_cast<double>(bins_ns.rbegin()->first);
}

// ---- FioJob accessors ----------------------------------------------------------------------------------------------

std::string FioJob::rw() const
{
  return fio_rw(options, file);
}
int FioJob::rwmixread() const
{
  return fio_rwmixread(options, file);
}
std::string FioJob::ioengine() const
{
  return fio_ioengine(options, file);
}
int FioJob::iodepth() const
{
  return fio_iodepth(options, file);
}
int FioJob::numjobs() const
{
  return fio_numjobs(options, file);
}
int FioJob::nrfiles() const
{
  return fio_nrfiles(options, file);
}
bool FioJob::direct() const
{
  return fio_direct(options, file);
}
std::uint64_t FioJob::bs_bytes() const
{
  std::string pattern = rw();
  auto bs             = fio_bs_bytes(options, file);
  return fio_rw_reads(pattern) ? bs[0] : (fio_rw_writes(pattern) ? bs[1] : bs[2]);
}
std::optional<double> FioJob::runtime_s() const
{
  return fio_runtime_s(options, file);
}
double FioJob::ramp_time_s() const
{
  return fio_ramp_time_s(options, file);
}
WorkloadMapping FioJob::workload() const
{
  return to_workload(options, file);
}

// ---- reading -------------------------------------------------------------------------------------------------------

FioResult parse_fio_json(std::string_view text, const std::string& file)
{
  FioResult out;
  out.file          = file;
  std::size_t start = json_start(text);
  if (start == std::string_view::npos)
    throw InputError(file, "line 1",
                     "no JSON object found (expected fio --output-format=json output: a line starting with '{')");
  out.leading_text = trimmed(text.substr(0, start));

  json root;
  std::istringstream in{std::string(text.substr(start))};
  try {
    in >> root; // reads one JSON value and stops: whatever follows is not parsed
  } catch (const json::parse_error& e) {
    std::string msg = e.what();
    std::size_t col = msg.find("column ");
    std::size_t sep = msg.find(": ", col == std::string::npos ? 0 : col);
    msg             = sep == std::string::npos ? msg : msg.substr(sep + 2);
    throw InputError(file, line_of(text, start + (e.byte > 0 ? e.byte - 1 : 0)), "invalid JSON: " + msg);
  } catch (const json::exception& e) { // a number too large for a double (out_of_range.406)
    throw InputError(file, "", "invalid JSON: " + json_error_text(e));
  }
  out.trailing_text = trimmed(std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()));

  JsonReader r(file);
  if (not root.is_object())
    throw InputError(file, "/", "expected a JSON object (fio results), found " + type_name(root));
  out.fio_version = r.string(root, "", "fio version");
  if (const json* ts = r.optional_member(root, "", "timestamp"))
    out.timestamp_s = static_cast<std::int64_t>(std::min<std::uint64_t>(r.count(*ts, "/timestamp"), INT64_MAX));
  if (const json* g = r.optional_member(root, "", "global options"))
    out.global_options = r.options(*g, "/global options");

  const json& jobs = r.member(root, "", "jobs");
  if (not jobs.is_array())
    throw InputError(file, "/jobs", "expected an array of jobs, found " + type_name(jobs));
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    const json& j = jobs[i];
    std::string p = "/jobs/" + std::to_string(i);
    FioJob job;
    job.file        = file;
    job.jobname     = r.string(j, p, "jobname");
    job.groupid     = static_cast<int>(r.integer(j, p, "groupid"));
    job.error       = static_cast<int>(r.integer(j, p, "error"));
    job.job_options = r.options(r.member(j, p, "job options"), p + "/job options");
    job.options     = out.global_options;
    for (const auto& [k, v] : job.job_options)
      job.options[k] = v;
    job.read  = r.direction(j, p, "read");
    job.write = r.direction(j, p, "write");
    if (r.optional_member(j, p, "trim"))
      job.trim = r.direction(j, p, "trim");
    job.usr_cpu_pct = r.number(j, p, "usr_cpu");
    job.sys_cpu_pct = r.number(j, p, "sys_cpu");
    job.ctx         = r.count(j, p, "ctx");
    if (const json* jr = r.optional_member(j, p, "job_runtime"))
      job.job_runtime_s = r.number(*jr, p + "/job_runtime") * 1e-3;
    if (const json* el = r.optional_member(j, p, "elapsed"))
      job.elapsed_s = r.number(*el, p + "/elapsed");

    double runtime = std::max({job.read.runtime_s, job.write.runtime_s, job.trim ? job.trim->runtime_s : 0.0});
    if (job.job_runtime_s and runtime > 0)
      job.aggregated_threads = std::max(1, static_cast<int>(std::lround(*job.job_runtime_s / runtime)));
    out.jobs.push_back(std::move(job));
  }

  // Without job_runtime, tell aggregation from the entry count: numjobs threads but fewer entries of that name.
  for (auto& job : out.jobs) {
    if (job.job_runtime_s)
      continue;
    auto same   = std::count_if(out.jobs.begin(), out.jobs.end(),
                                [&](const FioJob& other) { return other.jobname == job.jobname; });
    int numjobs = job.numjobs();
    if (numjobs > same)
      job.aggregated_threads = numjobs / static_cast<int>(same);
  }
  for (const auto& job : out.jobs)
    if (job.aggregated_threads > 1 or job.options.count("group_reporting"))
      out.group_reporting = true;

  if (const json* du = r.optional_member(root, "", "disk_util")) {
    if (not du->is_array())
      throw InputError(file, "/disk_util", "expected an array, found " + type_name(*du));
    for (std::size_t i = 0; i < du->size(); ++i) {
      const json& d = (*du)[i];
      std::string p = "/disk_util/" + std::to_string(i);
      FioDiskUtil u;
      u.name          = r.string(d, p, "name");
      u.read_ios      = r.count(d, p, "read_ios");
      u.write_ios     = r.count(d, p, "write_ios");
      u.read_merges   = r.count(d, p, "read_merges");
      u.write_merges  = r.count(d, p, "write_merges");
      u.read_ticks_s  = r.number(d, p, "read_ticks") * 1e-3;
      u.write_ticks_s = r.number(d, p, "write_ticks") * 1e-3;
      u.in_queue_s    = r.number(d, p, "in_queue") * 1e-3;
      u.util_pct      = r.number(d, p, "util");
      out.disk_util.push_back(std::move(u));
    }
  }
  return out;
}

FioResult read_fio_json(const std::string& path)
{
  return parse_fio_json(read_text_file(path, "fio result file"), path);
}

} // namespace pvsim::readers
