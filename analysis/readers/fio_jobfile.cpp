#include "analysis/readers/fio_jobfile.hpp"

#include "analysis/readers/text_file.hpp"
#include "sim/input_error.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <set>

namespace pvsim::readers {

namespace {

std::string_view trim(std::string_view s)
{
  while (not s.empty() and std::isspace(static_cast<unsigned char>(s.front())))
    s.remove_prefix(1);
  while (not s.empty() and
         (std::isspace(static_cast<unsigned char>(s.back())) or std::iscntrl(static_cast<unsigned char>(s.back()))))
    s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s)
{
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string quoted(std::string_view s)
{
  return "'" + std::string(s) + "'";
}

/** Splits "12.5k" into its number and its suffix; nullopt when it does not start with a non-negative number. */
struct NumberAndSuffix {
  double number;
  bool integral;
  std::uint64_t integer; // valid when integral
  std::string suffix;    // lower-cased, trimmed
};

std::optional<NumberAndSuffix> split_number(std::string_view text)
{
  text          = trim(text);
  std::size_t i = 0;
  while (i < text.size() and std::isdigit(static_cast<unsigned char>(text[i])))
    ++i;
  std::size_t int_end = i;
  if (i < text.size() and text[i] == '.') {
    ++i;
    while (i < text.size() and std::isdigit(static_cast<unsigned char>(text[i])))
      ++i;
  }
  if (int_end == 0 and i <= 1)
    return std::nullopt;
  NumberAndSuffix out{};
  std::string digits(text.substr(0, i));
  char* end  = nullptr;
  out.number = std::strtod(digits.c_str(), &end);
  if (end != digits.c_str() + digits.size())
    return std::nullopt;
  out.integral = (int_end == i);
  if (out.integral) {
    auto res = std::from_chars(text.data(), text.data() + int_end, out.integer);
    if (res.ec != std::errc())
      return std::nullopt; // too large
  }
  out.suffix = lower(trim(text.substr(i)));
  return out;
}

const std::vector<std::string>& rw_patterns()
{
  static const std::vector<std::string> patterns = {"read",      "write",     "trim",         "randread",
                                                    "randwrite", "randtrim",  "rw",           "readwrite",
                                                    "randrw",    "trimwrite", "randtrimwrite"};
  return patterns;
}

const FioOption* find(const FioOptions& options, const std::string& key)
{
  auto it = options.find(key);
  return it == options.end() ? nullptr : &it->second;
}

std::string expect_value(const FioOption& o, const std::string& key, const std::string& file)
{
  if (o.bare)
    throw InputError(file, o.where, "option '" + key + "' needs a value ('" + key + "=...')");
  return o.value;
}

} // namespace

std::string canonical_fio_key(const std::string& key)
{
  static const std::map<std::string, std::string> aliases = {
      {"readwrite", "rw"}, {"blocksize", "bs"}, {"timeout", "runtime"}, {"nr_files", "nrfiles"}};
  auto it = aliases.find(key);
  return it == aliases.end() ? key : it->second;
}

// ---- job file ------------------------------------------------------------------------------------------------------

FioJobFile parse_fio_jobfile(std::string_view text, const std::string& file)
{
  FioJobFile out;
  out.file = file;
  FioOptions running_global;
  enum class Section { none, global, job } section = Section::none;

  int line_no     = 0;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t nl      = text.find('\n', pos);
    std::string_view ln = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos                 = (nl == std::string_view::npos) ? text.size() + 1 : nl + 1;
    ++line_no;
    std::string where = "line " + std::to_string(line_no);

    // fio strips everything from the first ';' or '#' (strip_blank_end), then blanks.
    std::size_t cut = ln.find_first_of(";#");
    if (cut != std::string_view::npos)
      ln = ln.substr(0, cut);
    ln = trim(ln);
    if (ln.empty())
      continue;

    if (ln.front() == '[') {
      if (ln.back() != ']')
        throw InputError(file, where, "section header " + quoted(ln) + " lacks its closing ']'");
      std::string name(trim(ln.substr(1, ln.size() - 2)));
      if (name.empty())
        throw InputError(file, where, "empty section name '[]'");
      if (name == "global") {
        section = Section::global;
      } else {
        section = Section::job;
        FioJobSection job;
        job.name    = name;
        job.line    = line_no;
        job.options = running_global;
        out.jobs.push_back(std::move(job));
      }
      continue;
    }

    if (section == Section::none)
      throw InputError(file, where,
                       "option " + quoted(ln) + " outside of a section (expected a [global] or [job] header first)");

    std::string key;
    FioOption opt;
    opt.where      = where;
    std::size_t eq = ln.find('=');
    if (eq == std::string_view::npos) {
      key      = std::string(ln);
      opt.bare = true;
    } else {
      key       = std::string(trim(ln.substr(0, eq)));
      opt.value = std::string(trim(ln.substr(eq + 1)));
    }
    if (key.empty())
      throw InputError(file, where, "option without a name: " + quoted(ln));
    if (key == "include" or key.rfind("include ", 0) == 0 or key.rfind("include\t", 0) == 0)
      throw InputError(file, where, "'include' is not supported: put the included options in this file");
    if (key.find_first_of(" \t") != std::string::npos)
      throw InputError(file, where, "option name " + quoted(key) + " contains blanks (expected 'key=value' or a flag)");
    opt.spelled       = key;
    std::string canon = canonical_fio_key(key);
    if (section == Section::global) {
      running_global[canon]     = opt;
      out.global_options[canon] = opt;
    } else {
      out.jobs.back().options[canon]     = opt;
      out.jobs.back().own_options[canon] = opt;
    }
  }
  return out;
}

FioJobFile read_fio_jobfile(const std::string& path)
{
  return parse_fio_jobfile(read_text_file(path, "fio job file", 16 * MiB), path);
}

// ---- values --------------------------------------------------------------------------------------------------------

std::uint64_t parse_fio_size(std::string_view text, unsigned kb_base, const std::string& file, const std::string& where)
{
  auto bad = [&](const std::string& why) {
    return InputError(file, where,
                      "expected a size such as '4k', '2g' or '512' (fio units, kb_base " + std::to_string(kb_base) +
                          "), found " + quoted(trim(text)) + why);
  };
  std::string_view t = trim(text);
  if (not t.empty() and t.back() == '%')
    throw bad(": a percentage is not a size");
  auto ns = split_number(t);
  if (not ns)
    throw bad("");
  const std::uint64_t base    = kb_base;
  const std::uint64_t other   = (kb_base == 1000) ? 1024 : 1000;
  static const char* prefixes = "kmgtp";
  std::uint64_t mult          = 1;
  const std::string& s        = ns->suffix;
  if (s.empty() or s == "b") {
    mult = 1;
  } else {
    const char* p = std::strchr(prefixes, s[0]);
    if (p == nullptr or *p == '\0')
      throw bad(": unknown unit " + quoted(s));
    int power = static_cast<int>(p - prefixes) + 1;
    std::uint64_t unit;
    if (s.size() == 1 or (s.size() == 2 and s[1] == 'b'))
      unit = base; // "k", "kb": kb_base
    else if (s.size() == 3 and s[1] == 'i' and s[2] == 'b')
      unit = other; // "kib": the other base (fio's compatibility rule)
    else
      throw bad(": unknown unit " + quoted(s));
    for (int i = 0; i < power; ++i)
      mult *= unit;
  }
  if (ns->integral) {
    if (ns->integer != 0 and mult > std::numeric_limits<std::uint64_t>::max() / ns->integer)
      throw bad(": too large");
    return ns->integer * mult;
  }
  double v = std::round(ns->number * static_cast<double>(mult));
  if (v >= 1.8e19)
    throw bad(": too large");
  return static_cast<std::uint64_t>(v);
}

double parse_fio_time_s(std::string_view text, FioTimeUnit default_unit, const std::string& file,
                        const std::string& where)
{
  auto ns  = split_number(text);
  auto bad = [&](const std::string& why) {
    return InputError(file, where,
                      "expected a time such as '10', '250ms', '10s' or '5m' (a bare number is in " +
                          std::string(default_unit == FioTimeUnit::seconds ? "seconds" : "microseconds") + "), found " +
                          quoted(trim(text)) + why);
  };
  if (not ns)
    throw bad("");
  static const std::map<std::string, double> units = {{"us", 1e-6}, {"usec", 1e-6}, {"ms", 1e-3},  {"msec", 1e-3},
                                                      {"s", 1.0},   {"m", 60.0},    {"h", 3600.0}, {"d", 86400.0}};
  double factor;
  if (ns->suffix.empty()) {
    factor = default_unit == FioTimeUnit::seconds ? 1.0 : 1e-6;
  } else {
    auto it = units.find(ns->suffix);
    if (it == units.end())
      throw bad(": unknown time unit " + quoted(ns->suffix) + " (fio accepts us, ms, s, m, h, d)");
    factor = it->second;
  }
  return ns->number * factor;
}

bool parse_fio_bool(std::string_view text, const std::string& file, const std::string& where)
{
  std::string t = lower(trim(text));
  if (t.empty() or t == "1" or t == "true" or t == "yes" or t == "on")
    return true;
  if (t == "0" or t == "false" or t == "no" or t == "off")
    return false;
  throw InputError(file, where, "expected a boolean (1 or 0), found " + quoted(trim(text)));
}

std::int64_t parse_fio_int(std::string_view text, std::int64_t min, std::int64_t max, const std::string& file,
                           const std::string& where)
{
  std::string_view t = trim(text);
  std::int64_t v     = 0;
  auto res           = std::from_chars(t.data(), t.data() + t.size(), v);
  if (t.empty() or res.ec != std::errc() or res.ptr != t.data() + t.size())
    throw InputError(file, where, "expected an integer, found " + quoted(t));
  if (v < min or v > max)
    throw InputError(file, where,
                     "expected an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "], found " +
                         std::to_string(v));
  return v;
}

std::vector<std::string> split_fio_directions(std::string_view text)
{
  std::vector<std::string> parts;
  std::size_t pos = 0;
  while (true) {
    std::size_t comma = text.find(',', pos);
    parts.emplace_back(trim(text.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos)));
    if (comma == std::string_view::npos)
      break;
    pos = comma + 1;
  }
  while (parts.size() < 3)
    parts.push_back(parts.back());
  parts.resize(3);
  return parts;
}

// ---- accessors -----------------------------------------------------------------------------------------------------

static std::pair<std::string, std::string> split_rw(const FioOption& o, const std::string& file)
{
  std::string v = lower(expect_value(o, "rw", file));
  std::string modifier;
  std::size_t colon = v.find(':');
  if (colon != std::string::npos) {
    modifier = v.substr(colon);
    v        = v.substr(0, colon);
  }
  const auto& pats = rw_patterns();
  if (std::find(pats.begin(), pats.end(), v) == pats.end())
    throw InputError(file, o.where, "unknown rw pattern " + quoted(v) + did_you_mean(v, pats));
  if (v == "readwrite")
    v = "rw";
  return {v, modifier};
}

std::string fio_rw(const FioOptions& options, const std::string& file)
{
  const FioOption* o = find(options, "rw");
  return o ? split_rw(*o, file).first : std::string("read");
}

bool fio_rw_reads(const std::string& rw)
{
  return rw == "read" or rw == "randread" or rw == "rw" or rw == "readwrite" or rw == "randrw";
}

bool fio_rw_writes(const std::string& rw)
{
  return rw == "write" or rw == "randwrite" or rw == "rw" or rw == "readwrite" or rw == "randrw" or rw == "trimwrite" or
         rw == "randtrimwrite";
}

static bool rw_trims(const std::string& rw)
{
  return rw == "trim" or rw == "randtrim" or rw == "trimwrite" or rw == "randtrimwrite";
}

std::string fio_ioengine(const FioOptions& options, const std::string& file)
{
  const FioOption* o = find(options, "ioengine");
  if (not o)
    return "psync";
  std::string v = expect_value(*o, "ioengine", file);
  if (v.empty())
    throw InputError(file, o->where, "ioengine is empty (expected e.g. 'libaio', 'io_uring', 'psync')");
  return v;
}

static int int_option(const FioOptions& options, const std::string& key, int def, int min, int max,
                      const std::string& file)
{
  const FioOption* o = find(options, key);
  if (not o)
    return def;
  return static_cast<int>(parse_fio_int(expect_value(*o, key, file), min, max, file, o->where));
}

int fio_iodepth(const FioOptions& options, const std::string& file)
{
  return int_option(options, "iodepth", 1, 1, 1 << 20, file);
}

int fio_numjobs(const FioOptions& options, const std::string& file)
{
  return int_option(options, "numjobs", 1, 1, 1 << 20, file);
}

int fio_nrfiles(const FioOptions& options, const std::string& file)
{
  if (find(options, "nrfiles"))
    return int_option(options, "nrfiles", 1, 1, 1 << 24, file);
  if (const FioOption* f = find(options, "filename"); f and not f->value.empty())
    return static_cast<int>(std::count(f->value.begin(), f->value.end(), ':') + 1);
  return 1;
}

bool fio_direct(const FioOptions& options, const std::string& file)
{
  if (const FioOption* o = find(options, "direct"))
    return parse_fio_bool(o->value, file, o->where);
  if (const FioOption* o = find(options, "buffered"))
    return not parse_fio_bool(o->value, file, o->where);
  return false;
}

int fio_rwmixread(const FioOptions& options, const std::string& file)
{
  const FioOption* r = find(options, "rwmixread");
  const FioOption* w = find(options, "rwmixwrite");
  int read           = r ? int_option(options, "rwmixread", 50, 0, 100, file) : -1;
  int write          = w ? int_option(options, "rwmixwrite", 50, 0, 100, file) : -1;
  if (r and w and read + write != 100)
    throw InputError(file, w->where,
                     "rwmixwrite=" + std::to_string(write) + " contradicts rwmixread=" + std::to_string(read) + " (" +
                         r->where + "): they must add up to 100");
  if (r)
    return read;
  if (w)
    return 100 - write;
  return 50;
}

unsigned fio_kb_base(const FioOptions& options, const std::string& file)
{
  const FioOption* o = find(options, "kb_base");
  if (not o)
    return 1024;
  auto v = parse_fio_int(expect_value(*o, "kb_base", file), 0, 1 << 20, file, o->where);
  if (v != 1000 and v != 1024)
    throw InputError(file, o->where, "kb_base must be 1024 or 1000, found " + std::to_string(v));
  return static_cast<unsigned>(v);
}

std::vector<std::uint64_t> fio_bs_bytes(const FioOptions& options, const std::string& file)
{
  std::vector<std::uint64_t> bs(3, 4096);
  const FioOption* o = find(options, "bs");
  if (not o)
    return bs;
  unsigned kb_base = fio_kb_base(options, file);
  auto parts       = split_fio_directions(expect_value(*o, "bs", file));
  for (std::size_t d = 0; d < 3; ++d) {
    if (parts[d].empty())
      continue;
    bs[d] = parse_fio_size(parts[d], kb_base, file, o->where);
    if (bs[d] == 0)
      throw InputError(file, o->where, "block size must be positive, found " + quoted(parts[d]));
  }
  return bs;
}

std::optional<double> fio_runtime_s(const FioOptions& options, const std::string& file)
{
  const FioOption* o = find(options, "runtime");
  if (not o)
    return std::nullopt;
  double v = parse_fio_time_s(expect_value(*o, "runtime", file), FioTimeUnit::seconds, file, o->where);
  if (v == 0)
    return std::nullopt;
  return v;
}

double fio_ramp_time_s(const FioOptions& options, const std::string& file)
{
  const FioOption* o = find(options, "ramp_time");
  if (not o)
    return 0;
  return parse_fio_time_s(expect_value(*o, "ramp_time", file), FioTimeUnit::seconds, file, o->where);
}

// ---- workload ------------------------------------------------------------------------------------------------------

WorkloadMapping to_workload(const FioOptions& options, const std::string& file)
{
  WorkloadMapping out;
  Workload& w = out.workload;
  auto ignore = [&](const std::string& key, const FioOption& o, const std::string& reason) {
    out.ignored.push_back({key, o.value, o.where, reason});
  };

  w.rw = fio_rw(options, file);
  if (const FioOption* o = find(options, "rw"); o and not split_rw(*o, file).second.empty())
    ignore("rw", *o,
           "offset modifier '" + split_rw(*o, file).second + "' is not modelled (pattern '" + w.rw + "' is kept)");
  w.rwmixread = fio_rwmixread(options, file);
  w.iodepth   = fio_iodepth(options, file);
  w.numjobs   = fio_numjobs(options, file);
  w.nrfiles   = fio_nrfiles(options, file);
  w.ioengine  = fio_ioengine(options, file);
  w.direct    = fio_direct(options, file);
  w.runtime_s = fio_runtime_s(options, file);

  const bool reads  = fio_rw_reads(w.rw);
  const bool writes = fio_rw_writes(w.rw);
  const bool trims  = rw_trims(w.rw);
  // The direction whose per-direction value (bs, rate_iops) the workload keeps: reads first, then writes, trims.
  const std::size_t main_dir = reads ? 0 : (writes ? 1 : 2);
  const char* dir_names[]    = {"read", "write", "trim"};
  auto does = [&](std::size_t d) { return (d == 0 and reads) or (d == 1 and writes) or (d == 2 and trims); };

  auto bs    = fio_bs_bytes(options, file);
  w.bs_bytes = bs[main_dir];
  if (const FioOption* o = find(options, "bs")) {
    for (std::size_t d = 0; d < 3; ++d)
      if (d != main_dir and does(d) and bs[d] != bs[main_dir])
        ignore("bs", *o,
               std::string(dir_names[d]) + " block size " + std::to_string(bs[d]) + " differs from the " +
                   dir_names[main_dir] + " one (" + std::to_string(bs[main_dir]) +
                   " bytes): a workload has one block size");
  }

  if (const FioOption* o = find(options, "rate_iops")) {
    auto parts = split_fio_directions(expect_value(*o, "rate_iops", file));
    std::vector<std::int64_t> rate(3, 0);
    for (std::size_t d = 0; d < 3; ++d)
      if (not parts[d].empty())
        rate[d] = parse_fio_int(parts[d], 0, std::numeric_limits<std::int32_t>::max(), file, o->where);
    if (rate[main_dir] > 0)
      w.rate_iops = static_cast<double>(rate[main_dir]);
    // fio caps each direction on its own; the workload's cap is the main direction's.
    for (std::size_t d = 0; d < 3; ++d)
      if (d != main_dir and does(d) and rate[d] > 0)
        ignore("rate_iops", *o,
               "the separate cap of " + std::to_string(rate[d]) + " " + dir_names[d] +
                   " IOPS is not modelled: rate_iops caps the " + dir_names[main_dir] + " I/Os");
  }

  if (const FioOption* o = find(options, "thinktime"))
    w.thinktime_s = parse_fio_time_s(expect_value(*o, "thinktime", file), FioTimeUnit::microseconds, file, o->where);
  if (const FioOption* o = find(options, "ramp_time"))
    w.ramp_time_s = parse_fio_time_s(expect_value(*o, "ramp_time", file), FioTimeUnit::seconds, file, o->where);
  if (const FioOption* o = find(options, "time_based"))
    w.time_based = parse_fio_bool(o->value, file, o->where);
  if (const FioOption* o = find(options, "cpus_allowed"))
    w.cpus_allowed = expect_value(*o, "cpus_allowed", file);

  const unsigned kb_base = fio_kb_base(options, file);
  if (const FioOption* o = find(options, "size")) {
    std::string v = expect_value(*o, "size", file);
    if (not v.empty() and v.back() == '%')
      ignore("size", *o, "a percentage of the file or device size cannot be turned into bytes");
    else
      w.size_bytes = parse_fio_size(v, kb_base, file, o->where);
  }
  if (const FioOption* o = find(options, "number_ios")) {
    auto n = parse_fio_size(expect_value(*o, "number_ios", file), kb_base, file, o->where);
    if (n > 0)
      w.number_ios = n;
  }

  static const std::set<std::string> used = {"rw",           "rwmixread", "rwmixwrite", "bs",        "iodepth",
                                             "numjobs",      "nrfiles",   "ioengine",   "direct",    "buffered",
                                             "runtime",      "rate_iops", "thinktime",  "ramp_time", "time_based",
                                             "cpus_allowed", "size",      "number_ios", "kb_base"};
  static const std::map<std::string, std::string> reasons = {
      {"name", "a label only"},
      {"description", "a label only"},
      {"filename", "file placement is not modelled (only the number of files is)"},
      {"directory", "file placement is not modelled"},
      {"group_reporting", "a reporting option"},
      {"norandommap", "offset generation is not modelled"},
      {"randrepeat", "offset generation is not modelled"},
      {"thread", "threads and processes are not distinguished"},
      {"stonewall", "job sequencing is not modelled"},
  };
  for (const auto& [key, o] : options) {
    if (used.count(key))
      continue;
    auto r = reasons.find(key);
    ignore(key, o, r != reasons.end() ? r->second : "not modelled by pvsim");
  }
  std::stable_sort(out.ignored.begin(), out.ignored.end(),
                   [](const IgnoredOption& a, const IgnoredOption& b) { return a.key < b.key; });
  return out;
}

} // namespace pvsim::readers
