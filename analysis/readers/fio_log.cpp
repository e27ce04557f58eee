#include "analysis/readers/fio_log.hpp"

#include "sim/input_error.hpp"

#include <zlib.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <string_view>

namespace pvsim::readers {

// ---- GzLineReader --------------------------------------------------------------------------------------------------

GzLineReader::GzLineReader(std::string path) : path_(std::move(path)), buffer_(1 << 16)
{
  gzFile f = gzopen(path_.c_str(), "rb");
  if (f == nullptr)
    throw InputError(path_, "", std::string("cannot open: ") + std::strerror(errno));
  gzbuffer(f, 1 << 17);
  gz_ = f;
}

GzLineReader::~GzLineReader()
{
  if (gz_ != nullptr)
    gzclose(static_cast<gzFile>(gz_));
}

bool GzLineReader::next(std::string& line)
{
  auto* f = static_cast<gzFile>(gz_);
  line.clear();
  bool got_any = false;
  while (true) {
    char* s = gzgets(f, buffer_.data(), static_cast<int>(buffer_.size()));
    if (s == nullptr)
      break;
    got_any         = true;
    std::size_t len = std::strlen(s);
    if (len > 0 and s[len - 1] == '\n') {
      line.append(s, len - 1);
      break;
    }
    line.append(s, len); // a line longer than the buffer, or the last line without '\n'
  }
  int err         = Z_OK;
  const char* msg = gzerror(f, &err);
  if (err != Z_OK and err != Z_STREAM_END)
    throw InputError(path_, "line " + std::to_string(line_number_ + 1),
                     std::string("corrupt or truncated compressed data (zlib: ") + (msg ? msg : "?") + ")");
  if (not got_any)
    return false;
  if (not line.empty() and line.back() == '\r')
    line.pop_back();
  ++line_number_;
  return true;
}

// ---- fio logs ------------------------------------------------------------------------------------------------------

FioLogKind fio_log_kind(const std::string& path)
{
  std::string name = path.substr(path.find_last_of('/') == std::string::npos ? 0 : path.find_last_of('/') + 1);
  auto has         = [&](const char* tag) { return name.find(tag) != std::string::npos; };
  if (has("_bw.") or has("_iops."))
    throw InputError(path, "",
                     "a bandwidth or IOPS log: this reader reads latency logs (*_lat.N.log, *_clat.N.log, "
                     "*_slat.N.log)");
  if (has("_clat.") or has("_clat_"))
    return FioLogKind::clat;
  if (has("_slat.") or has("_slat_"))
    return FioLogKind::slat;
  if (has("_lat.") or has("_lat_"))
    return FioLogKind::latency;
  return FioLogKind::unknown;
}

namespace {

std::string_view trim(std::string_view s)
{
  while (not s.empty() and (s.front() == ' ' or s.front() == '\t'))
    s.remove_prefix(1);
  while (not s.empty() and (s.back() == ' ' or s.back() == '\t' or s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

std::size_t split_fields(std::string_view line, std::string_view* fields, std::size_t max_fields)
{
  std::size_t n = 0, pos = 0;
  while (true) {
    std::size_t comma = line.find(',', pos);
    if (n < max_fields)
      fields[n] = trim(line.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos));
    ++n;
    if (comma == std::string_view::npos)
      return n;
    pos = comma + 1;
  }
}

template <typename T>
T parse_field(std::string_view text, const GzLineReader& in, const char* what)
{
  T v{};
  int base = 10;
  if constexpr (std::is_unsigned_v<T>) {
    if (text.size() > 2 and text[0] == '0' and (text[1] == 'x' or text[1] == 'X')) {
      text.remove_prefix(2);
      base = 16;
    }
  }
  auto res = std::from_chars(text.data(), text.data() + text.size(), v, base);
  if (text.empty() or res.ec != std::errc() or res.ptr != text.data() + text.size())
    throw InputError(in.path(), "line " + std::to_string(in.line_number()),
                     std::string("expected an integer ") + what + ", found '" + std::string(text) + "'");
  return v;
}

FioLogLayout layout_for_columns(std::size_t n, const GzLineReader& in)
{
  FioLogLayout l;
  switch (n) {
  case 4:
    l.has_prio = false;
    break;
  case 5:
    break;
  case 6:
    l.has_offset = true;
    break;
  case 7:
    l.has_offset     = true;
    l.has_issue_time = true;
    break;
  default:
    throw InputError(in.path(), "line " + std::to_string(in.line_number()),
                     "expected a fio log line 'time_ms, latency_ns, direction, bs[, offset], prio' (4 to 7 "
                     "comma-separated columns), found " +
                         std::to_string(n) + " columns");
  }
  return l;
}

} // namespace

FioLogLayout for_each_fio_log_record(const std::string& path, const std::function<void(const FioLogRecord&)>& visit,
                                     std::optional<FioLogLayout> layout)
{
  fio_log_kind(path); // rejects bandwidth / IOPS logs
  GzLineReader in(path);
  std::string line;
  std::string_view f[8];
  while (in.next(line)) {
    std::string_view text = trim(line);
    if (text.empty())
      continue;
    std::size_t n = split_fields(text, f, 8);
    if (not layout)
      layout = layout_for_columns(n, in);
    if (n != layout->columns())
      throw InputError(path, "line " + std::to_string(in.line_number()),
                       "expected " + std::to_string(layout->columns()) +
                           " comma-separated columns like the lines "
                           "before, found " +
                           std::to_string(n));
    FioLogRecord r;
    std::size_t c = 0;
    r.time_ms     = parse_field<std::int64_t>(f[c++], in, "time in ms (column 1)");
    r.latency_ns  = parse_field<std::int64_t>(f[c++], in, "latency in ns (column 2)");
    r.direction   = parse_field<int>(f[c++], in, "direction (column 3)");
    r.bs_bytes    = parse_field<std::uint64_t>(f[c++], in, "block size (column 4)");
    if (layout->has_offset)
      r.offset_bytes = parse_field<std::uint64_t>(f[c++], in, "offset (column 5)");
    if (layout->has_prio)
      r.prio = parse_field<std::uint32_t>(f[c++], in, "priority");
    if (layout->has_issue_time)
      r.issue_time_ns = parse_field<std::uint64_t>(f[c++], in, "issue time");
    if (r.latency_ns < 0)
      throw InputError(path, "line " + std::to_string(in.line_number()),
                       "negative latency " + std::to_string(r.latency_ns) + " ns");
    if (r.direction < 0 or r.direction > 2)
      throw InputError(path, "line " + std::to_string(in.line_number()),
                       "expected a direction 0 (read), 1 (write) or 2 (trim), found " + std::to_string(r.direction));
    visit(r);
  }
  if (not layout)
    throw InputError(path, "", "empty fio log: no record");
  return *layout;
}

FioLog read_fio_log(const std::string& path, std::optional<FioLogLayout> layout)
{
  FioLog log;
  log.file   = path;
  log.kind   = fio_log_kind(path);
  log.layout = for_each_fio_log_record(
      path, [&](const FioLogRecord& r) { log.records.push_back(r); }, layout);
  return log;
}

} // namespace pvsim::readers
